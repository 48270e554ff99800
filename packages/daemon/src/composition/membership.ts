import type { ServiceModule } from "@df/service-kit";
import { seedPeerMembership } from "../scheduler-link/seed-membership.js";
import type { DaemonContext } from "./context.js";

/** A seed peer with a manager registers and keeps alive with it; last to start, first to stop, so the manager stops handing it out before anything closes. */
export function membershipModule(ctx: DaemonContext): ServiceModule[] {
  const { config, host } = ctx;
  if (!host.seed || config.manager.addresses.length === 0) return [];
  return [
    {
      name: "manager-membership",
      start() {
        ctx.started.membership = seedPeerMembership(config, host, ctx.logger, ctx.metrics, ctx.tls?.client);
        ctx.started.membership.start();
      },
      stop: () => ctx.started.membership?.stop(),
    },
  ];
}
