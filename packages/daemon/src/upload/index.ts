/**
 * What this dfdaemon serves to other peers: the DfdaemonUpload methods children use
 * (SyncPieces, DownloadPiece, StatTask, SyncHost), the HTTP piece-byte server announced
 * as the host's download port, and the limits both share.
 */
export { createUploadHandlers, type UploadHandlers } from "./handlers.js";
export type { UploadDeps, UploadHost } from "./context.js";
export { UploadLimiter, type UploadLimiterOptions, type UploadLoad, type UploadSlot } from "./limiter.js";
export { PieceByteServer, BYTE_SERVER_DEFAULTS, type PieceByteServerOptions, type ByteServerLimits, type ByteServerCuts } from "./byte-server.js";
export { TaskFailures } from "./task-failures.js";
export { PieceSpread } from "./spread.js";
export { TaskUploadGate } from "./task-gate.js";
export { HEADERS as PIECE_HTTP_HEADERS, piecePath } from "./piece-http.js";
