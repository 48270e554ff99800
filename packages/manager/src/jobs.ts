import { inject, injectable } from "tsyringe";
import { sql, type ExpressionBuilder } from "kysely";
import { Tokens, type Logger } from "@df/interface";
import type { Database } from "./db/database.js";
import type { JobRow, JobState, ManagerDatabase } from "./db/schema.js";
import type { Job, JobRunner } from "./job-runner.js";
import { ManagerTokens } from "./tokens.js";

export type { Job, JobRunner } from "./job-runner.js";

export function jobFromRow(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    state: row.state,
    args: row.args,
    result: row.result,
    schedulerClusterIds: row.scheduler_cluster_ids,
    userId: row.user_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The default runner: jobs stay PENDING until a runner that knows their type is configured. */
export class PendingJobRunner implements JobRunner {
  readonly name = "pending";
  constructor(private readonly logger: Logger) {}
  submit(job: Job): void {
    this.logger.info("job stored; no runner executes it yet", { id: job.id, type: job.type });
  }
}

/** A RUNNING job whose runner has not written it for `ms`, by the database's clock. */
function stale(eb: ExpressionBuilder<ManagerDatabase, "jobs">, ms: number) {
  return eb.and([eb("state", "=", "RUNNING"), eb("updated_at", "<", sql<Date>`now() - ${Math.round(ms)} * interval '1 millisecond'`)]);
}

/** Job rows, for runners to report state and results. */
@injectable()
export class JobStore {
  constructor(
    @inject(ManagerTokens.Database) private readonly database: Database,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {}

  async get(id: number): Promise<Job | undefined> {
    const row = await this.database.run((db) => db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst());
    return row ? jobFromRow(row) : undefined;
  }

  /**
   * Takes a job for this manager in one conditional update: a PENDING one, or a RUNNING
   * one not written for `staleAfterMs` by the database's clock (its manager died mid-run;
   * every progress write renews this lease). False when another manager took it first or
   * it is gone.
   */
  async claim(id: number, staleAfterMs?: number): Promise<boolean> {
    const updated = await this.database.run((db) =>
      db
        .updateTable("jobs")
        .set({ state: "RUNNING", updated_at: sql<Date>`now()` })
        .where("id", "=", id)
        .where((eb) =>
          staleAfterMs === undefined ? eb("state", "=", "PENDING") : eb.or([eb("state", "=", "PENDING"), stale(eb, staleAfterMs)]),
        )
        .executeTakeFirst(),
    );
    return Number(updated.numUpdatedRows) > 0;
  }

  /** Hands a RUNNING job back as PENDING (this manager stops), keeping its result so far. */
  async release(id: number, result?: Record<string, unknown>): Promise<boolean> {
    const updated = await this.database.run((db) =>
      db
        .updateTable("jobs")
        .set({ state: "PENDING", ...(result !== undefined ? { result: JSON.stringify(result) } : {}), updated_at: sql<Date>`now()` })
        .where("id", "=", id)
        .where("state", "=", "RUNNING")
        .executeTakeFirst(),
    );
    return Number(updated.numUpdatedRows) > 0;
  }

  /** IDs of a type's jobs waiting for a runner, and of RUNNING ones not written for `staleAfterMs`; oldest first. */
  async claimableIds(type: string, staleAfterMs: number): Promise<number[]> {
    const rows = await this.database.run((db) =>
      db
        .selectFrom("jobs")
        .select("id")
        .where("type", "=", type)
        .where((eb) => eb.or([eb("state", "=", "PENDING"), stale(eb, staleAfterMs)]))
        .orderBy("id")
        .execute(),
    );
    return rows.map((r) => r.id);
  }

  /** Sets a job's state (and result); false when the job no longer exists. */
  async update(id: number, state: JobState, result?: Record<string, unknown>): Promise<boolean> {
    const updated = await this.database.run((db) =>
      db
        .updateTable("jobs")
        .set({ state, ...(result !== undefined ? { result: JSON.stringify(result) } : {}), updated_at: sql<Date>`now()` })
        .where("id", "=", id)
        .executeTakeFirst(),
    );
    this.logger.debug("job state", { id, state });
    return Number(updated.numUpdatedRows) > 0;
  }
}
