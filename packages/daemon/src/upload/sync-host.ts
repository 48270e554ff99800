import { setTimeout as sleep } from "node:timers/promises";
import { common, daemonUpload } from "@df/rpc";
import type { UploadContext } from "./context.js";

const MIN_INTERVAL_MS = 100;

/**
 * SyncHost: this host with its live upload load, at once and then every interval, so
 * children can weigh parents by free upload bandwidth. Runs until the child cancels.
 */
export async function* syncHost(
  context: UploadContext,
  request: daemonUpload.SyncHostRequest,
  signal: AbortSignal,
): AsyncGenerator<daemonUpload.SyncHostResponse, void, undefined> {
  const intervalMs = Math.max(MIN_INTERVAL_MS, request.intervalMs || context.syncHostIntervalMs);
  for (;;) {
    yield daemonUpload.SyncHostResponse.create({ host: hostWithLoad(context) });
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch {
      return;
    }
  }
}

/** The host message with the limiter's current figures over it. */
export function hostWithLoad(context: UploadContext): common.Host {
  const base = context.describeHost?.() ?? common.Host.create({ id: context.host.id, ip: context.host.ip, downloadPort: context.host.downloadPort });
  const load = context.limiter.load();
  return common.Host.create({
    ...base,
    concurrentUploadLimit: load.concurrentUploadLimit,
    concurrentUploadCount: load.concurrentUploadCount,
    uploadCount: load.uploadCount,
    uploadFailedCount: load.uploadFailedCount,
    network: common.Network.create({
      ...base.network,
      uploadTcpConnectionCount: load.connectionCount,
      txBandwidth: load.txBandwidth,
      ...(load.maxTxBandwidth > 0 ? { maxTxBandwidth: load.maxTxBandwidth } : {}),
    }),
  });
}
