import type { ServiceModule } from "@df/service-kit";
import { DaemonMetrics } from "../conductor/metrics.js";
import { DaemonTokens } from "../tokens.js";
import { createPeerTransfer } from "../transfer-wiring.js";
import { PeerClientPool } from "../transfer/index.js";
import type { DaemonContext } from "./context.js";

/** The download bandwidth (traffic shaper, total limit): started before any download, stopped after them. */
export function bandwidthModule(ctx: DaemonContext): ServiceModule {
  const { bandwidth } = ctx;
  return {
    name: "bandwidth",
    register: (r) => r.value(DaemonTokens.Bandwidth, bandwidth),
    start(resolve) {
      bandwidth.start();
      resolve(DaemonMetrics).watchBandwidth(bandwidth);
    },
    stop: () => bandwidth.stop(),
  };
}

/** Fetching pieces from parents: the connection pool and the piece downloader. */
export function transferModule(ctx: DaemonContext): ServiceModule {
  const transfer = createPeerTransfer(ctx.config, ctx.logger, ctx.bandwidth, ctx.tls);
  return {
    name: "transfer",
    register(r) {
      r.value(PeerClientPool, transfer.pool);
      r.value(DaemonTokens.PieceDownloader, ctx.pieceDownloader ?? transfer.downloader);
    },
    stop: () => transfer.close(),
  };
}
