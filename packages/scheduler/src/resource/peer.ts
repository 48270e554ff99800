import type { PeerView } from "@df/interface";
import { StateMachine } from "./fsm.js";
import type { Host } from "./host.js";
import { RollingWindow } from "./rolling-window.js";
import { peerTransitions, type PeerEvent, type PeerState } from "./states.js";
import type { Task } from "./task.js";

/** Pieces a child downloads at once when it did not say (reference §4.2). */
export const DEFAULT_CONCURRENT_PIECE_COUNT = 8;
/** Piece costs kept per peer for the bad-parent rule (reference §4.4). */
export const PIECE_COST_WINDOW = 2000;

export interface PeerOptions {
  concurrentPieceCount?: number;
  /** The client (or the seed trigger) asked to go to the source straight away. */
  needBackToSource?: boolean;
  now: number;
}

/** One host's copy of one task: a vertex of the task's DAG. */
export class Peer implements PeerView {
  readonly fsm: StateMachine<PeerState, PeerEvent>;
  readonly finishedPieces = new Set<number>();
  readonly costs = new RollingWindow(PIECE_COST_WINDOW);
  /** Parents this peer must not be given again (failed ones, itself, rescheduled ones). */
  readonly blockedParents = new Set<string>();
  readonly concurrentPieceCount: number;
  needBackToSource: boolean;
  updatedAt: number;
  /** When the peer last finished a piece; stalls are measured from here. */
  pieceUpdatedAt: number;
  /** Set when the peer holds every piece without having reported them one by one (dfcache import). */
  #allFinished: number | undefined;

  constructor(
    readonly id: string,
    readonly task: Task<Peer>,
    readonly host: Host,
    options: PeerOptions,
  ) {
    this.concurrentPieceCount = options.concurrentPieceCount || DEFAULT_CONCURRENT_PIECE_COUNT;
    this.needBackToSource = options.needBackToSource ?? false;
    this.updatedAt = options.now;
    this.pieceUpdatedAt = options.now;
    this.fsm = new StateMachine(`peer ${id}`, "pending", peerTransitions);
    this.blockedParents.add(id);
  }

  get state(): PeerState {
    return this.fsm.state;
  }

  get finishedPieceCount(): number {
    return this.#allFinished ?? this.finishedPieces.size;
  }

  /** The peer holds all `pieceCount` pieces: counted, not listed, so a large task costs nothing here. */
  finishAll(pieceCount: number): void {
    this.#allFinished = pieceCount;
    this.finishedPieces.clear();
  }

  get pieceCosts(): readonly number[] {
    return this.costs.toArray();
  }

  finishPiece(number: number, costMs: number, now: number): void {
    if (this.#allFinished === undefined) this.finishedPieces.add(number);
    if (Number.isFinite(costMs) && costMs >= 0) this.costs.push(costMs);
    this.pieceUpdatedAt = now;
    this.updatedAt = now;
  }

  touch(now: number): void {
    this.updatedAt = now;
  }
}
