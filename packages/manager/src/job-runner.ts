import type { JobState } from "./db/schema.js";

/** A job as runners see it. */
export interface Job {
  id: number;
  type: string;
  state: JobState;
  args: Record<string, unknown>;
  result: Record<string, unknown> | null;
  schedulerClusterIds: number[];
  userId: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Runs jobs. The REST API stores a new job as PENDING (committed) and then hands it to
 * `submit`, which must return quickly and run the job in the background, reporting
 * progress through `JobStore.update` (RUNNING, then SUCCESS or FAILURE with a result).
 * Registered under `ManagerTokens.JobRunner`; preheat plugs in here.
 */
export interface JobRunner {
  readonly name: string;
  submit(job: Job): void | Promise<void>;
  /** Called at manager stop; stop starting work. */
  close?(): void | Promise<void>;
}
