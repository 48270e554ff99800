import type { Logger } from "@df/interface";
import type { JobRunner } from "../job-runner.js";
import type { Authenticator } from "./auth.js";
import type { CrudDeps } from "./crud.js";

/** What the REST resources need from the manager. */
export interface RouteDeps extends CrudDeps {
  auth: Authenticator;
  jobRunner: JobRunner;
  logger: Logger;
  maxTokenTtlMs: number;
  /** The fleet's caches must forget clusters and members changed through REST. */
  fleetChanged(): void;
}
