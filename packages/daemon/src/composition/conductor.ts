import type { ServiceModule } from "@df/service-kit";
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
  let conductor: TaskConductor | undefined;
  return {
    name: "conductor",
    register(r) {
      r.singleton(TaskConductor);
    },
    start(resolve) {
      conductor = resolve(TaskConductor);
    },
    stop: () => conductor?.stop(),
  };
}

/** Tasks announced to a fallback scheduler go to their owner again once it is back. */
export function handBackModule(ctx: DaemonContext): ServiceModule {
  let handBack: HandBack | undefined;
  return {
    name: "hand-back",
    start(resolve) {
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
