import { limitsSchema, type SchedulerLimits } from "../config.js";
import type { Host } from "../resource/host.js";
import type { Resources } from "../resource/resources.js";
import { AnnounceRate } from "./announce-rate.js";
import { HostAdmission } from "./host-admission.js";
import { refusedLimit } from "./refusal.js";

/** What the service checks each call against: the limits, the host rule and the announce budgets. */
export class CallGuard {
  readonly admission: HostAdmission;
  readonly rate: AnnounceRate;

  constructor(
    resources: Resources,
    readonly limits: SchedulerLimits = limitsSchema.parse({}),
    private readonly onRefused: (limit: string) => void = () => {},
  ) {
    this.admission = new HostAdmission(resources, limits);
    this.rate = new AnnounceRate(limits);
  }

  /**
   * Counts one announce against the caller's budget. A seed peer the manager lists,
   * calling from its own address, is exempt: it registers for every task this scheduler
   * triggers on it, so its rate is the cluster's rate of new tasks.
   */
  announce(caller: string, call: string, host: Host | undefined): void {
    if (host?.listedByManager && host.boundAddress === caller) return;
    this.rate.take(caller, call);
  }

  /** Counts `error` if a limit refused the call; returns it for rethrowing. */
  observe(error: unknown): unknown {
    const limit = refusedLimit(error);
    if (limit !== undefined) this.onRefused(limit);
    return error;
  }

  /** Runs one call's handler, counting a limit refusal it throws (at once or later). */
  counted<T>(run: () => T | Promise<T>): Promise<T> {
    try {
      return Promise.resolve(run()).catch((error: unknown) => {
        throw this.observe(error);
      });
    } catch (error) {
      return Promise.reject(this.observe(error));
    }
  }
}
