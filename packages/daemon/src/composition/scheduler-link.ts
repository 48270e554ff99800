import type { ServiceModule } from "@df/service-kit";
import { HostAnnouncer } from "../scheduler-link/announcer.js";
import { SchedulerClients } from "../scheduler-link/scheduler-clients.js";
import { SchedulerDiscovery } from "../scheduler-link/scheduler-discovery.js";
import { UploadLimiter } from "../upload/index.js";
import type { DaemonContext } from "./context.js";

/**
 * With a manager, the scheduler ring follows its ListSchedulers answers; started before
 * anything calls a scheduler, so the ring is in place. Without one, no module.
 */
export function discoveryModule(ctx: DaemonContext): ServiceModule[] {
  const { config, logger } = ctx;
  if (config.manager.addresses.length === 0) return [];
  let discovery: SchedulerDiscovery | undefined;
  return [
    {
      name: "scheduler-discovery",
      register(r) {
        r.factory(SchedulerDiscovery, (resolve) => {
          discovery = new SchedulerDiscovery({
            config,
            host: ctx.host,
            schedulers: resolve(SchedulerClients),
            logger,
            metrics: ctx.metrics,
            ...(ctx.tls ? { tls: ctx.tls.client } : {}),
            // Schedulers that joined learn this host now rather than at the next interval.
            onChange: ({ added }) => added.forEach((address) => void resolve(HostAnnouncer).announceTo(address).catch(() => {})),
            // The cluster's load limit wins over upload.concurrencyLimit, from the next upload
            // on; when the manager no longer sets one (0), the local value applies again.
            onLoadLimit: (loadLimit) => {
              const limiter = resolve(UploadLimiter);
              const limit = loadLimit > 0 ? loadLimit : config.upload.concurrencyLimit;
              if (limit === limiter.limit) return;
              logger.info("upload load limit", { from: limiter.limit, to: limit, source: loadLimit > 0 ? "manager" : "config" });
              limiter.setLimit(limit);
            },
          });
          return discovery;
        });
      },
      start: (resolve) => resolve(SchedulerDiscovery).start(),
      stop: () => discovery?.stop(),
    },
  ];
}

/** Announces the host to the schedulers once its servers listen; on stop, leaves them. */
export function announcerModule(): ServiceModule {
  let started: HostAnnouncer | undefined;
  return {
    name: "announcer",
    register(r) {
      r.singleton(HostAnnouncer);
    },
    async start(resolve) {
      const announcer = resolve(HostAnnouncer);
      const limiter = resolve(UploadLimiter);
      announcer.setLoad(() => limiter.load());
      started = announcer;
      await announcer.start();
    },
    stop: () => started?.stop(),
  };
}
