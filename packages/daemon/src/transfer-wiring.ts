import type { Logger } from "@df/interface";
import type { MemberTls } from "@df/rpc";
import type { PieceBandwidth } from "./bandwidth.js";
import type { DaemonConfig } from "./config.js";
import { PeerClientPool, PeerPieceDownloader } from "./transfer/index.js";
import type { PieceDownloader } from "./transfer/types.js";

/** The download half of the peer transfer, as the composition root wires it. */
export interface PeerTransfer {
  /** Connections to parents, shared by the piece downloader and the conductor's StatTask calls. */
  pool: PeerClientPool;
  downloader: PieceDownloader;
  close(): Promise<void>;
}

/** Builds the peer piece downloader from the daemon's `download` config. */
export function createPeerTransfer(config: DaemonConfig, logger: Logger, bandwidth?: PieceBandwidth, tls?: MemberTls): PeerTransfer {
  const pool = new PeerClientPool({ connectionsPerParent: Math.max(config.download.concurrentPieceCount, 1) * 2, ...(tls ? { tls } : {}) });
  const downloader = new PeerPieceDownloader({
    pool,
    concurrency: config.download.concurrentPieceCount,
    pieceTimeoutMs: config.download.pieceTimeout,
    stallTimeoutMs: config.download.stallTimeout,
    cutThrough: config.upload.cutThrough,
    ...(bandwidth ? { shaper: bandwidth } : {}),
    logger,
  });
  return { pool, downloader, close: () => pool.close() };
}
