import type { HostView } from "@df/interface";

export interface HostInfo {
  id: string;
  type: "normal" | "seed";
  hostname: string;
  ip: string;
  /** The peer-facing gRPC upload port. */
  port: number;
  /** The port piece bytes are served on, when it differs from `port`. */
  downloadPort: number;
  idc?: string;
  location?: string;
  /** Bits per second the host can send; 0 when unknown. */
  maxTxBandwidth: number;
  /** Bits per second the host reports sending now. */
  txBandwidth: number;
  /** Uploads the host accepts at once (its load limit). */
  concurrentUploadLimit: number;
  /** How often the host promises to announce itself (ms). */
  announceIntervalMs: number;
  /** The host's own count of uploads in flight, when it reports one. */
  reportedConcurrentUploadCount?: number;
  /** Leech-only hosts never serve others. */
  disableShared: boolean;
}

/**
 * A machine running a dfdaemon, as the scheduler knows it: what it announced, plus the
 * load the scheduler itself put on it by handing it out as a parent.
 */
export class Host implements HostView {
  info: HostInfo;
  /** Peers (task copies) on this host, by peer ID. */
  readonly peers = new Set<string>();
  uploadCount = 0;
  uploadFailedCount = 0;
  /** Children currently assigned to this host's peers. */
  assignedChildCount = 0;
  /** Pieces children may pull from this host at once (their concurrency, summed). */
  concurrentUploadPieceCount = 0;
  /** Bandwidth the scheduler expects this host to spend on assigned children (bits/s). */
  assignedTxBandwidth = 0;
  uploadContentLength = 0;
  updatedAt: number;
  /**
   * The caller address this host first announced from (or, for a seed the manager
   * lists, the IP the manager has for it): only calls from there may update, use or
   * delete it. Undefined until then.
   */
  boundAddress: string | undefined;
  /** The manager lists this host as a seed peer of the cluster (ListSeedPeers). */
  listedByManager = false;

  constructor(info: HostInfo, now: number) {
    this.info = info;
    this.updatedAt = now;
  }

  get id(): string {
    return this.info.id;
  }
  get type(): "normal" | "seed" {
    return this.info.type;
  }
  get idc(): string | undefined {
    return this.info.idc;
  }
  get location(): string | undefined {
    return this.info.location;
  }
  get maxTxBandwidth(): number {
    return this.info.maxTxBandwidth;
  }
  /** The larger of what the host reports and what the scheduler has assigned to it. */
  get txBandwidth(): number {
    return Math.max(this.info.txBandwidth, this.assignedTxBandwidth);
  }
  get concurrentUploadLimit(): number {
    return this.info.concurrentUploadLimit;
  }
  get concurrentUploadCount(): number {
    return Math.max(this.info.reportedConcurrentUploadCount ?? 0, this.assignedChildCount);
  }

  /** Applies a fresh announcement, keeping the scheduler's own load bookkeeping. */
  update(info: HostInfo, now: number): void {
    this.info = info;
    this.updatedAt = now;
  }

  /** Books a child on this host: its piece concurrency and the bandwidth it will pull. */
  assignChild(childConcurrentPieceCount: number, pieceLength: number, contentLength: number): void {
    this.assignedChildCount++;
    this.uploadCount++;
    this.concurrentUploadPieceCount += childConcurrentPieceCount;
    this.assignedTxBandwidth += pieceLength * childConcurrentPieceCount * 8;
    this.uploadContentLength += contentLength;
  }

  /** Undoes assignChild when the edge goes away (saturating: never below zero). */
  releaseChild(childConcurrentPieceCount: number, pieceLength: number, contentLength: number): void {
    this.assignedChildCount = Math.max(0, this.assignedChildCount - 1);
    this.concurrentUploadPieceCount = Math.max(0, this.concurrentUploadPieceCount - childConcurrentPieceCount);
    this.assignedTxBandwidth = Math.max(0, this.assignedTxBandwidth - pieceLength * childConcurrentPieceCount * 8);
    this.uploadContentLength = Math.max(0, this.uploadContentLength - contentLength);
  }

  recordUploadFailure(): void {
    this.uploadFailedCount++;
  }
}
