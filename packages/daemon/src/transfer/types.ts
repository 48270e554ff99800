import type { AbortOptions, DfError } from "@df/interface";
import type { Task as StoredTask } from "@df/storage";

/**
 * The contract between the daemon's two halves: the task conductor (scheduler session,
 * back-to-source, local clients) and the peer transfer (upload service, byte transport,
 * piece downloader). The conductor hands the downloader the parents the scheduler chose;
 * the downloader fills the stored task from them and reports every piece.
 */

/** A candidate parent as the scheduler described it. */
export interface ParentRef {
  peerId: string;
  hostId: string;
  ip: string;
  /** The parent's upload gRPC port (DfdaemonUpload). */
  port: number;
  /** The parent's piece-byte port (0: bytes over gRPC DownloadPiece). */
  downloadPort: number;
  /**
   * The scheduler says this parent finished the whole task (peer state SUCCEEDED): its
   * pieces are requested at once, each checked against the digest the parent sends
   * with the bytes, and its SyncPieces stream is opened only if it lacks one.
   */
  holdsAll?: boolean;
}

export interface DownloadedPiece {
  number: number;
  offset: number;
  length: number;
  digest: string;
  parentId: string;
  costMs: number;
}

export interface PieceDownloadEvents {
  /** A piece was fetched, its digest checked, and stored. */
  pieceFinished(piece: DownloadedPiece): void;
  /**
   * A piece from `parentId` failed. `temporary`: it went silent (slow or stuck), and the
   * parent is only rested; otherwise (bad bytes, refused, gone) it is no longer used for
   * this task.
   */
  pieceFailed(number: number, parentId: string, error: DfError, temporary: boolean): void;
}

export type PieceDownloadOutcome =
  /** Every piece of the task is stored. */
  | { kind: "complete" }
  /**
   * Pieces remain but no given parent can provide them (failed or gone), or
   * (`stalled`) no byte came from any of them for the stall timeout.
   */
  | {
      kind: "parents-exhausted";
      missing: number;
      failedParents: string[];
      stalled: boolean;
      /** Stalled early: every parent holding a missing piece went silent (failedParents are those). */
      silent?: boolean;
    };

export interface PieceDownloadRequest extends AbortOptions {
  /** The stored task to fill; its content length and piece length are known. */
  task: StoredTask;
  hostId: string;
  peerId: string;
  parents: readonly ParentRef[];
  events: PieceDownloadEvents;
  /**
   * Only these piece numbers are wanted (a ranged download needs just the pieces its
   * range touches); absent means every piece. With it, `complete` means every listed
   * piece is stored. A downloader that ignores it stays correct, only does more work.
   */
  pieces?: readonly number[];
  /**
   * Asks for parents besides `current` (the scheduler's pick of peers that gained
   * pieces since); none is a fine answer. Called now and then while pieces are missing,
   * one call at a time; without it the run keeps the parents it was given.
   */
  moreParents?: (current: readonly string[]) => Promise<readonly ParentRef[]>;
}

/** Fills a stored task from parents; run again with new parents after a reschedule. */
export interface PieceDownloader {
  download(request: PieceDownloadRequest): Promise<PieceDownloadOutcome>;
}
