import type { ByteRange } from "@df/piece";
import type { Task as StoredTask } from "@df/storage";

/** Where a piece's bytes came from, as reported to clients. */
export type PieceTraffic = "back-to-source" | "remote-peer" | "local-peer";

/** A stored piece and how it got here. */
export interface PieceInfo {
  number: number;
  offset: number;
  length: number;
  digest: string;
  traffic: PieceTraffic;
  /** The parent's peer ID, for pieces from a remote peer. */
  parentId?: string;
  costMs: number;
  createdAt: Date;
}

/** What one client of a download sees, in order: started, piece…, finished (or an error). */
export type DownloadEvent =
  | {
      kind: "started";
      task: StoredTask;
      contentLength: number;
      pieceLength: number;
      pieceCount: number;
      /** The bytes this client asked for, when it asked for a range. */
      range?: ByteRange;
      responseHeader: Record<string, string>;
      /** Wanted pieces already on this host; not reported again as `piece`. */
      localPieces: PieceInfo[];
      /** Everything wanted is already here: `finished` follows at once. */
      isFinished: boolean;
    }
  | { kind: "piece"; piece: PieceInfo }
  | { kind: "finished"; task: StoredTask; contentLength: number; pieceCount: number; costMs: number };

/** What a running download tells the clients attached to it. */
export interface RunListener {
  /** The task exists in storage: its length and piece length are known. */
  metadata(task: StoredTask): void;
  piece(piece: PieceInfo): void;
  /** Every piece is stored and the task is marked complete. */
  complete(task: StoredTask): void;
  /** The download is over; with an error when it failed. */
  end(error?: unknown): void;
}
