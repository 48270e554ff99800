/**
 * How this dfdaemon pulls pieces from parents: the PieceDownloader the conductor calls
 * (see types.ts for the contract), and the shared pool of connections to parents.
 */
export type * from "./types.js";
export { PeerPieceDownloader, type PeerPieceDownloaderOptions } from "./piece-downloader.js";
export { PeerClientPool, type PeerClientPoolOptions, type Held, type UploadClient } from "./peer-client-pool.js";
