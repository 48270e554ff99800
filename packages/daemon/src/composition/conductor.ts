import type { Resolve, ServiceModule } from "@df/service-kit";
import { startHandBack, type HandBack } from "../cache/hand-back.js";
import { TaskConductor } from "../conductor/conductor.js";
import { SchedulerClients } from "../scheduler-link/scheduler-clients.js";
import { DaemonTokens } from "../tokens.js";
import type { DaemonContext } from "./context.js";

/**
 * The downloads. Listed after the services that reach it, so it stops before them:
 * running downloads end (their clients get UNAVAILABLE) while the servers still answer.
 */
export function conductorModule(): ServiceModule {
  let resolve!: Resolve;
  let conductor: TaskConductor | undefined;
  return {
    name: "conductor",
    register(r) {
      resolve = r.resolve;
      r.singleton(TaskConductor);
    },
    start() {
      conductor = resolve(TaskConductor);
    },
    stop: () => conductor?.stop(),
  };
}

/** Tasks announced to a fallback scheduler go to their owner again once it is back. */
export function handBackModule(ctx: DaemonContext): ServiceModule {
  let resolve!: Resolve;
  let handBack: HandBack | undefined;
  return {
    name: "hand-back",
    register(r) {
      resolve = r.resolve;
    },
    start() {
      handBack = startHandBack({
        conductor: resolve(TaskConductor),
        storage: resolve(DaemonTokens.Storage),
        schedulers: resolve(SchedulerClients),
        host: ctx.host,
        logger: ctx.logger,
      });
    },
    stop: () => handBack?.stop(),
  };
}
