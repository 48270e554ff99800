import type { Logger } from "@df/interface";
import type { Storage } from "@df/storage";
import type { TaskConductor } from "../conductor/conductor.js";
import type { DaemonHost } from "../host.js";
import type { SchedulerClients } from "../scheduler-link/scheduler-clients.js";

/** What the dfcache operations (import, export, stat, delete) work with. */
export interface CacheDeps {
  conductor: TaskConductor;
  storage: Storage;
  schedulers: SchedulerClients;
  host: DaemonHost;
  logger: Logger;
}
