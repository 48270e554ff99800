import { sizeScope, type SizeScope } from "@df/piece";
import { Dag } from "./dag.js";
import { StateMachine } from "./fsm.js";
import type { Host } from "./host.js";
import { taskTransitions, type PeerState, type TaskEvent, type TaskState } from "./states.js";

/** Peers of one task that may fetch from the source at once (reference §3.4). */
export const DEFAULT_BACK_TO_SOURCE_LIMIT = 200;
/** Piece length assumed for load bookkeeping before the task's length is known. */
const ASSUMED_PIECE_LENGTH = 4 * 1024 * 1024;

export interface TaskInfo {
  url: string;
  type: "STANDARD" | "PERSISTENT_CACHE";
  tag?: string;
  application?: string;
  filteredQueryParams: readonly string[];
  header: Readonly<Record<string, string>>;
  backToSourceLimit: number;
}

export interface TaskOptions {
  /** Lets the task's peer graph hold cycles (see DagOptions). */
  allowCycles?: boolean;
}

/**
 * What a task needs of its peers to keep their graph and book their load. The scheduler's
 * `Peer` is one; naming only this keeps task.ts free of peer.ts, which refers back here.
 */
export interface TaskPeer {
  readonly id: string;
  readonly state: PeerState;
  readonly host: Host;
  readonly concurrentPieceCount: number;
}

/** A file being distributed: its metadata, its state, and the graph of its peers. */
export class Task<P extends TaskPeer = TaskPeer> {
  readonly fsm: StateMachine<TaskState, TaskEvent>;
  readonly dag: Dag<P>;
  /** Peers currently fetching from the source. */
  readonly backToSourcePeers = new Set<string>();
  contentLength: number | undefined;
  pieceLength: number | undefined;
  totalPieceCount = 0;
  /** Back-to-source peers that failed since the last success. */
  peerFailedCount = 0;
  updatedAt: number;
  /**
   * The whole-content digest the first holder announced (dfcache import), so a second
   * import of the same cache ID with other bytes can be refused rather than mixed.
   */
  contentDigest: string | undefined;
  /** Parents that served wrong bytes, blocked for every peer of the task (see reportBadContent). */
  readonly blockedParents = new Set<string>();
  /** Hosts that reported each parent for wrong bytes, until it is blocked. */
  readonly #badContentReporters = new Map<string, Set<string>>();
  /** When a seed peer was last asked to fetch this task, and whether it failed. */
  seedTriggeredAt: number | undefined;
  seedFailedAt: number | undefined;

  constructor(
    readonly id: string,
    public info: TaskInfo,
    now: number,
    options: TaskOptions = {},
  ) {
    this.dag = new Dag<P>(options);
    this.updatedAt = now;
    this.fsm = new StateMachine(`task ${id}`, "pending", taskTransitions);
  }

  get state(): TaskState {
    return this.fsm.state;
  }

  get peerCount(): number {
    return this.dag.size;
  }

  sizeScope(): SizeScope {
    return sizeScope(this.contentLength, this.totalPieceCount);
  }

  /** Learns the task's length (from the first peer that reaches the source). */
  setContent(contentLength: number, pieceLength: number, totalPieceCount: number): void {
    this.contentLength = contentLength;
    this.pieceLength = pieceLength;
    this.totalPieceCount = totalPieceCount;
  }

  canBackToSource(): boolean {
    return this.backToSourcePeers.size < this.info.backToSourceLimit;
  }

  /** True when some peer that is not blocked holds the whole task. */
  hasAvailablePeer(blocked: ReadonlySet<string> = new Set()): boolean {
    for (const peer of this.dag.values()) {
      if (peer.state === "succeeded" && !blocked.has(peer.id) && !this.blockedParents.has(peer.id)) return true;
    }
    return false;
  }

  /**
   * Host `reporter` got wrong bytes from parent `parentId`. Once `threshold` distinct
   * hosts did, the parent is blocked for the whole task; returns true when this report
   * blocked it.
   */
  reportBadContent(parentId: string, reporter: string, threshold: number): boolean {
    if (this.blockedParents.has(parentId)) return false;
    let reporters = this.#badContentReporters.get(parentId);
    if (!reporters) this.#badContentReporters.set(parentId, (reporters = new Set()));
    reporters.add(reporter);
    if (reporters.size < threshold) return false;
    this.#badContentReporters.delete(parentId);
    this.blockedParents.add(parentId);
    return true;
  }

  addPeer(peer: P): void {
    if (!this.dag.has(peer.id)) this.dag.addVertex(peer.id, peer);
  }

  peer(id: string): P | undefined {
    return this.dag.get(id);
  }

  deletePeer(id: string): void {
    const peer = this.dag.get(id);
    if (!peer) return;
    this.deleteInEdges(peer);
    for (const childId of this.dag.children(id)) {
      const child = this.dag.get(childId);
      if (child) this.#release(peer, child);
    }
    this.backToSourcePeers.delete(id);
    this.dag.deleteVertex(id);
  }

  canAddEdge(parent: P, child: P): boolean {
    return this.dag.canAddEdge(parent.id, child.id);
  }

  /** Adds parent → child and books the load the child will put on the parent's host. */
  addEdge(parent: P, child: P): void {
    this.dag.addEdge(parent.id, child.id);
    parent.host.assignChild(child.concurrentPieceCount, this.pieceLength ?? ASSUMED_PIECE_LENGTH, this.contentLength ?? 0);
  }

  /** Drops parent → child, releasing the load booked on the parent's host. */
  deleteEdge(parent: P, child: P): void {
    if (!this.dag.has(child.id) || !this.dag.parents(child.id).includes(parent.id)) return;
    this.#release(parent, child);
    this.dag.deleteEdge(parent.id, child.id);
  }

  /** Drops every parent of `child`, releasing the load booked on their hosts. */
  deleteInEdges(child: P): void {
    if (!this.dag.has(child.id)) return;
    for (const parentId of this.dag.parents(child.id)) {
      const parent = this.dag.get(parentId);
      if (parent) this.#release(parent, child);
    }
    this.dag.deleteInEdges(child.id);
  }

  parentsOf(child: P): P[] {
    return this.dag.parents(child.id).flatMap((id) => this.dag.get(id) ?? []);
  }

  childrenOf(parent: P): P[] {
    return this.dag.children(parent.id).flatMap((id) => this.dag.get(id) ?? []);
  }

  #release(parent: P, child: P): void {
    parent.host.releaseChild(child.concurrentPieceCount, this.pieceLength ?? ASSUMED_PIECE_LENGTH, this.contentLength ?? 0);
  }
}
