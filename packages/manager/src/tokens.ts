import type { InjectionToken } from "tsyringe";
import type { ManagerConfig } from "./config.js";
import type { Database } from "./db/database.js";
import type { JobRunner } from "./job-runner.js";
import type { Searcher } from "./searcher/searcher.js";
import type { Metrics } from "@df/telemetry";

/** Tokens for the manager's own interfaces; its classes are their own tokens. */
export const ManagerTokens = {
  Config: Symbol("df.manager.Config") as InjectionToken<ManagerConfig>,
  Database: Symbol("df.manager.Database") as InjectionToken<Database>,
  Searcher: Symbol("df.manager.Searcher") as InjectionToken<Searcher>,
  /** Runs jobs (preheat, …) once they are stored as PENDING. */
  JobRunner: Symbol("df.manager.JobRunner") as InjectionToken<JobRunner>,
  Metrics: Symbol("df.manager.Metrics") as InjectionToken<Metrics>,
} as const;
