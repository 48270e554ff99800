import { z } from "zod";
import type { Route } from "./context.js";
import { errorOut } from "./schemas.js";

function schemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

/** `/api/v1/users/:id` → `/api/v1/users/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}");
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

/**
 * The OpenAPI 3.1 document of the REST API, built from the routes and the same zod
 * schemas that validate requests (JSON Schema 2020-12, which OpenAPI 3.1 uses).
 */
export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "integer", minimum: 1 } }));
    const query: unknown[] = [];
    if (route.list) {
      query.push(
        { name: "page", in: "query", schema: { type: "integer", minimum: 1, default: 1 } },
        { name: "per_page", in: "query", schema: { type: "integer", minimum: 1, default: 10 } },
      );
    }
    if (route.query) {
      for (const [name, schema] of Object.entries(route.query.shape)) {
        query.push({ name, in: "query", schema: schemaOf(schema as z.ZodType, "input") });
      }
    }
    const status = String(route.status ?? 200);
    const responses: Record<string, unknown> = {
      [status]: route.response
        ? {
            description: route.list ? "A page; the total is in X-Total-Count" : "OK",
            ...(route.list ? { headers: { "X-Total-Count": { schema: { type: "integer" } } } } : {}),
            content: { "application/json": { schema: route.list ? { type: "array", items: schemaOf(route.response, "output") } : schemaOf(route.response, "output") } },
          }
        : { description: "Done" },
      "400": errorResponse("Invalid request; `field` names the offending field"),
      "503": errorResponse("The database is unavailable; nothing was written"),
    };
    if (route.access !== "public") {
      responses["401"] = errorResponse("Missing, invalid, expired or revoked token");
      responses["403"] = errorResponse("The role or token scope does not allow this");
    }
    if (route.body) responses["413"] = errorResponse("The body is larger than the limit");
    if (path.includes("{id}")) responses["404"] = errorResponse("No such resource");
    if (route.method === "POST" || route.method === "PATCH") responses["409"] = errorResponse("Conflicts with an existing resource");
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${path.replace(/\{(\w+)\}/g, "By-$1").replace(/^\/api\/v1/, "").replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      ...(route.access === "public" ? { security: [] } : {}),
      ...(params.length || query.length ? { parameters: [...params, ...query] } : {}),
      ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: schemaOf(route.body, "input") } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "df manager REST API",
      version,
      description:
        "Scheduler clusters, seed-peer clusters, schedulers, seed peers, peers, applications, jobs, users and tokens. " +
        "Sign in with POST /api/v1/users/signin, then send `Authorization: Bearer <token>`; personal access tokens work the same way. " +
        "Roles: root may do everything, guest may only read.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { Error: schemaOf(errorOut, "output") },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
