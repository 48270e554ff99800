import path from "node:path";
import { DfError } from "@df/interface";
import type { ServiceModule } from "@df/service-kit";
import { Storage } from "@df/storage";
import { DaemonMetrics } from "../conductor/metrics.js";
import { DaemonTokens } from "../tokens.js";
import type { DaemonContext } from "./context.js";

/** The store: opened before every part that holds data, closed cleanly after them (so a restart need not re-verify pieces). */
export function storageModule(ctx: DaemonContext): ServiceModule {
  let storage: Storage | undefined;
  return {
    name: "storage",
    register(r) {
      r.factory(DaemonTokens.Storage, () => {
        if (!storage) throw new DfError("FAILED_PRECONDITION", "the daemon has not started");
        return storage;
      });
    },
    async start(resolve) {
      const { gc } = ctx.config.storage;
      storage = await Storage.open({
        dir: path.resolve(ctx.config.storage.dir),
        directIO: ctx.config.storage.directIO,
        ...(ctx.config.storage.quota === undefined ? {} : { quotaBytes: ctx.config.storage.quota }),
        logger: ctx.logger.child("storage"),
        gc: { intervalMs: gc.interval, taskTtlMs: gc.taskTtl, highWatermarkPercent: gc.highWatermarkPercent, lowWatermarkPercent: gc.lowWatermarkPercent },
      });
      resolve(DaemonMetrics).watchStorage(storage);
    },
    stop: () => storage?.close(),
  };
}
