import { z } from "zod";
import { redactJob } from "../../auth/redact.js";
import type { JobRow } from "../../db/schema.js";
import { jobFromRow } from "../../jobs.js";
import { audit } from "../auth.js";
import type { Route } from "../context.js";
import { asRead, crudRoutes } from "../crud.js";
import type { RouteDeps } from "../deps.js";
import { validate } from "../http.js";
import * as s from "../schemas.js";
import { checkIds, json } from "./common.js";

/** `/api/v1/jobs`: a job is stored PENDING in the request's transaction, then handed to the job runner. */
export function jobRoutes(deps: RouteDeps): Route[] {
  const { database } = deps;
  const createJob: Route = {
    method: "POST",
    path: "/api/v1/jobs",
    access: "write",
    resource: "jobs",
    summary: "Create a job (preheat, …); it is stored PENDING and handed to the job runner",
    tag: "jobs",
    body: s.jobCreate,
    response: s.jobOut,
    status: 201,
    redact: redactJob,
    async handler(ctx) {
      const input = validate(s.jobCreate, ctx.body ?? {}, "body");
      const row: JobRow = await database.transaction(async (tx) => {
        await checkIds(tx, "scheduler_clusters", input.scheduler_cluster_ids, "scheduler_cluster_ids");
        const inserted = await tx
          .insertInto("jobs")
          .values({
            type: input.type,
            state: "PENDING",
            args: json(input.args),
            result: json(null),
            scheduler_cluster_ids: json(input.scheduler_cluster_ids ?? []),
            user_id: ctx.principal!.userId,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(tx, ctx.principal!.name, "create", "jobs", inserted.id, { type: input.type, args: input.args });
        return inserted;
      });
      try {
        await deps.jobRunner.submit(jobFromRow(row));
      } catch (error) {
        deps.logger.error("job runner refused a job", { id: row.id, runner: deps.jobRunner.name, error: (error as Error).message });
      }
      return { status: 201, body: row };
    },
  };
  const jobs = crudRoutes(
    {
      resource: "jobs",
      table: "jobs",
      tag: "jobs",
      noun: "job",
      output: s.jobOut,
      filters: z.object({ type: z.enum(s.JOB_TYPES).optional(), state: z.enum(["PENDING", "RUNNING", "SUCCESS", "FAILURE"]).optional() }),
      decorate: asRead,
      toJson: (row) => row,
      redact: redactJob,
    },
    deps,
  );
  return [createJob, ...jobs];
}
