import type { Logger } from "@df/interface";
import type { common } from "@df/rpc";
import type { Storage } from "@df/storage";
import type { UploadLimiter } from "./limiter.js";
import type { PieceSpread } from "./spread.js";
import type { TaskUploadGate } from "./task-gate.js";
import type { TaskFailures } from "./task-failures.js";

/** Who this host is to its children. The conductor's DaemonHost fits as is. */
export interface UploadHost {
  readonly id: string;
  readonly ip: string;
  /**
   * Port of the piece-byte server, 0 when bytes go over gRPC DownloadPiece only. Read
   * each time, so it may be set after the byte server binds.
   */
  readonly downloadPort: number;
}

/** What the upload service needs. */
export interface UploadDeps {
  storage: Storage;
  host: UploadHost;
  /** Shared with the byte server, so limits and counts cover both transports. */
  limiter: UploadLimiter;
  logger?: Logger;
  /**
   * This host's peer ID for a task (its download that holds the pieces), reported to
   * children as the parent ID; the host ID when it returns undefined or is absent.
   */
  peerIdOf?: (taskId: string) => string | undefined;
  /**
   * The host as AnnounceHost describes it (hostname, type, IDC, …), for SyncHost; the
   * live upload load is filled in over it. Defaults to ID, IP and ports only.
   */
  describeHost?: () => common.Host;
  /** SyncHost interval when the child asks for none (default 1000 ms; at least 100). */
  syncHostIntervalMs?: number;
  /** Lets the conductor end SyncPieces streams of a task whose download failed here. */
  failures?: TaskFailures;
  /** A seed's first-copy spreading (see PieceSpread); shared with the byte server. */
  spread?: PieceSpread;
  /** Uploads of one task at once (see TaskUploadGate); shared with the byte server. */
  taskGate?: TaskUploadGate;
  /**
   * How long a batched SyncPieces stream gathers new pieces after the first before it
   * sends them (`upload.announceWindow`); 0 (the default here) sends what is ready.
   */
  announceWindowMs?: number;
  /** Announce and serve pieces while they arrive here (`upload.cutThrough`, default true). */
  cutThrough?: boolean;
}

/** @internal The deps with defaults applied, as the handlers use them. */
export interface UploadContext extends UploadDeps {
  logger: Logger;
  syncHostIntervalMs: number;
  announceWindowMs: number;
}
