import type { AbortOptions } from "@df/interface";
import type { Host } from "../resource/host.js";
import type { Peer } from "../resource/peer.js";

/** What a peer asks for when it registers a download (transport-neutral). */
export interface DownloadRequest {
  url: string;
  type: "STANDARD" | "PERSISTENT_CACHE";
  tag?: string;
  application?: string;
  filteredQueryParams: readonly string[];
  header: Readonly<Record<string, string>>;
  /** The whole-file digest the peer checks the content against; with credentials in `header`, part of the task's identity. */
  digest?: string;
  pieceLength?: number;
  /**
   * The origin's version the peer revalidated (`Download.version`, part of its task
   * ID): passed on to a triggered seed peer, so that it fetches the same content.
   * "" (the peer chose no version) is passed on too.
   */
  version?: string;
  /** The peer must fetch from the source (a triggered seed peer, or a user's choice). */
  needBackToSource: boolean;
  /** The peer may not fetch from the source (P2P only). */
  disableBackToSource: boolean;
  concurrentPieceCount?: number;
  /** Known when the peer already has the task's metadata (a resumed download). */
  contentLength?: number;
  pieceCount?: number;
}

export type ScheduleResponse =
  | { kind: "empty-task" }
  | { kind: "normal-task"; parents: Peer[] }
  | { kind: "need-back-to-source"; description: string };

export interface PieceReport {
  number: number;
  length: number;
  /** Milliseconds the piece took to download. */
  costMs: number;
  /** The peer it came from; absent for back-to-source pieces. */
  parentId?: string;
}

/**
 * Asks a seed peer to fetch a task from the source (the scheduler calls the seed's
 * daemon, which then registers as a back-to-source peer of the task).
 */
export interface SeedPeerTrigger {
  trigger(seed: Host, taskId: string, download: DownloadRequest, options?: AbortOptions): Promise<void>;
}

export interface SeedPeerFetchResult {
  taskId: string;
  contentLength: number;
  /** Milliseconds from the request until the seed held every piece. */
  costMs: number;
}

/** Has a seed peer fetch a task and waits until it holds all of it (preheat). */
export interface SeedPeerFetcher {
  fetch(seed: Host, download: DownloadRequest, options?: AbortOptions): Promise<SeedPeerFetchResult>;
}
