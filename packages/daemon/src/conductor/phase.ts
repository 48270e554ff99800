import type { DfError, Logger, SourceRegistry } from "@df/interface";
import type { common } from "@df/rpc";
import type { Storage, Task as StoredTask } from "@df/storage";
import type { DownloadBandwidth } from "../bandwidth.js";
import type { DaemonConfig } from "../config.js";
import type { PeerClientPool } from "../transfer/peer-client-pool.js";
import type { PieceDownloader } from "../transfer/types.js";
import type { PieceInfo } from "./events.js";
import type { DaemonHost } from "../host.js";
import type { DaemonMetrics } from "./metrics.js";
import type { SchedulerClients } from "../scheduler-link/scheduler-clients.js";
import type { PeerEvent, SchedulerSession } from "../scheduler-link/session.js";
import type { TaskIdentity } from "../task/identity.js";

/** What every download of a daemon shares. */
export interface RunContext {
  storage: Storage;
  sources: SourceRegistry;
  downloader: PieceDownloader;
  schedulers: SchedulerClients;
  /** Connections to parents (StatTask to learn a task's size). */
  pool: PeerClientPool;
  host: DaemonHost;
  config: DaemonConfig;
  logger: Logger;
  metrics: DaemonMetrics;
  /** The traffic shaper and total limit every piece waits on. */
  bandwidth: DownloadBandwidth;
  /** Announces this host to one scheduler again (it forgot the host). */
  announceHost(address: string): Promise<void>;
  /** Tells the scheduler this host holds a complete task the scheduler did not see it download. */
  announceHolder(identity: TaskIdentity, task: StoredTask, download: common.Download): void;
  /** A download finished through the scheduler: `peerId` is the holder it knows. */
  finishedAsPeer(taskId: string, peerId: string): void;
  /** A download failed. */
  failed(taskId: string, error: DfError): void;
}

/**
 * What a phase of a download (from parents, from the source) may see and do of its run.
 * TaskRun is the one implementation; the phases import this, not run.ts, so the run
 * and its phases do not import each other.
 */
export interface RunPhase {
  readonly taskId: string;
  readonly peerId: string;
  readonly identity: TaskIdentity;
  readonly download: common.Download;
  readonly signal: AbortSignal;
  /** The stored task, once its length is known. */
  readonly task: StoredTask | undefined;
  /** The scheduler's stream, when the run has one (new parents are asked through it). */
  readonly session: Pick<SchedulerSession, "moreParents"> | undefined;
  createTask(contentLength: number, pieceLength: number, responseHeader?: Readonly<Record<string, string>>): Promise<StoredTask>;
  /** Tells the scheduler (when there is one) what happened. */
  report(event: PeerEvent): void;
  /** A piece is stored: clients, metrics and the scheduler (when there is one) hear of it. */
  pieceStored(piece: PieceInfo): void;
  /** The pieces some client still wants, in order. */
  wantedPieces(): number[];
  /** The wanted pieces when clients want part of the task; undefined when they want all of it. */
  wantedSubset(): number[] | undefined;
  satisfied(): boolean;
  /** Ends the run when every wanted piece is stored; true when it did. */
  closeIfSatisfied(): boolean;
}
