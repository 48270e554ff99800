/**
 * @packageDocumentation
 * dfdaemon, the df peer (and, with `seedPeer.enable`, the seed peer). For local clients
 * it serves DfdaemonDownload on a unix socket: DownloadTask streams started → pieces →
 * finished and writes the output by hard link or copy. Each task has at most one
 * running download per daemon, shared by every client that asks: it registers with the
 * scheduler (AnnouncePeer), fetches pieces from the parents it is given, reschedules
 * when they run out or stall, and goes back to the origin through a source plugin when
 * told to or when the scheduler is unreachable. For other peers it serves
 * DfdaemonUpload (SyncPieces, DownloadPiece, StatTask, SyncHost; DownloadTask is the
 * scheduler's seed trigger) and a piece-byte transport. The host announces itself to
 * every scheduler periodically and leaves on a clean stop.
 *
 * @example
 * ```ts
 * const daemon = await Daemon.create(daemonConfig({ storage: { dir } }), { logger });
 * const { socket } = await daemon.start();
 * // … dfget --endpoint socket …
 * await daemon.stop();
 * ```
 */
export { Daemon, type DaemonDeps, type DaemonAddresses } from "./daemon.js";
export { daemonConfigSchema, daemonConfig, type DaemonConfig, type DaemonConfigInput } from "./config.js";
export { DaemonTokens } from "./tokens.js";
export { TaskConductor, type DownloadOptions } from "./conductor/conductor.js";
export { DaemonHost } from "./host.js";
export type { DownloadEvent, PieceInfo, PieceTraffic } from "./conductor/events.js";
export { identify, type TaskIdentity } from "./task/identity.js";
export { SchemeSourceRegistry, BUILTIN_SOURCES } from "./source/registry.js";
export type { ParentRef, PieceDownloader, PieceDownloadRequest, PieceDownloadOutcome, PieceDownloadEvents, DownloadedPiece } from "./transfer/types.js";
