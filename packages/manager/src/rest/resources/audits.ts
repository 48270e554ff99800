import { sql } from "kysely";
import { z } from "zod";
import { redactAudit } from "../../auth/redact.js";
import type { Route } from "../context.js";
import { pageOf, pageReply } from "../crud.js";
import type { RouteDeps } from "../deps.js";
import { validate } from "../http.js";
import * as s from "../schemas.js";

const auditFilters = z.object({ actor: z.string().optional(), resource: z.string().optional(), action: z.string().optional() });

/** `/api/v1/audits`: the audit log, newest first (written by every change, in its transaction). */
export function auditRoutes(deps: RouteDeps): Route[] {
  const { database } = deps;
  return [
    {
      method: "GET",
      path: "/api/v1/audits",
      access: "read",
      resource: "audits",
      summary: "The audit log, newest first",
      tag: "audits",
      list: true,
      response: s.auditOut,
      query: auditFilters,
      redact: redactAudit,
      async handler(ctx) {
        const { page, perPage, offset } = pageOf(ctx.query, deps.maxPerPage);
        const filters = validate(auditFilters, ctx.query, "query");
        return database.run(async (db) => {
          let q = db.selectFrom("audit_log");
          if (filters.actor !== undefined) q = q.where("actor", "=", filters.actor);
          if (filters.resource !== undefined) q = q.where("resource", "=", filters.resource);
          if (filters.action !== undefined) q = q.where("action", "=", filters.action);
          const { n } = await q.select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow();
          const rows = await q.selectAll().orderBy("id", "desc").limit(perPage).offset(offset).execute();
          return pageReply(rows, Number(n), page, perPage);
        });
      },
    },
  ];
}
