import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inject, injectable } from "tsyringe";
import { DfError, isDfError, Tokens, type Logger } from "@df/interface";
import type { Metrics } from "@df/telemetry";
import { parseListen } from "@df/rpc";
import type { ManagerConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { ConsoleAssets, isConsolePath } from "../console/static.js";
import { FleetCache } from "../fleet/cache.js";
import type { JobRunner } from "../jobs.js";
import { ManagerTokens } from "../tokens.js";
import { SigninLimiter } from "../auth/signin-limiter.js";
import { Authenticator } from "./auth.js";
import type { Principal, RequestContext, Route } from "./context.js";
import { errorBody, readJson, sendJson } from "./http.js";
import { openApiDocument } from "./openapi.js";
import { RestRouter } from "./router.js";
import { buildRoutes } from "./routes.js";

export const API_VERSION = "1.0.0";

/** The REST API (`/api/v1/…`), `/healthy`, `/metrics`, the OpenAPI document and the web console (`/console/`), on node:http. */
@injectable()
export class RestServer {
  readonly routes: Route[];
  readonly #router: RestRouter;
  readonly auth: Authenticator;
  #server: Server | undefined;
  #openapi: string | undefined;
  readonly #console = new ConsoleAssets();
  readonly #requests;
  readonly #duration;

  constructor(
    @inject(ManagerTokens.Config) private readonly config: ManagerConfig,
    @inject(ManagerTokens.Database) private readonly database: Database,
    @inject(ManagerTokens.JobRunner) jobRunner: JobRunner,
    @inject(ManagerTokens.Metrics) private readonly metrics: Metrics,
    @inject(FleetCache) cache: FleetCache,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {
    const { signin } = config.auth;
    const limiter = new SigninLimiter({
      maxFailuresPerUser: signin.maxFailuresPerUser,
      maxFailuresPerAddress: signin.maxFailuresPerAddress,
      windowMs: signin.window,
      lockoutMs: signin.lockout,
    });
    const failures = metrics.counter("df_manager_signin_failures_total", "Failed sign-ins by reason (wrong-credentials, user-disabled, locked-out)", ["reason"]);
    const lockouts = metrics.counter("df_manager_signin_lockouts_total", "Sign-in lockouts begun, by what is locked out (user, address)", ["scope"]);
    this.auth = new Authenticator(database, config.auth.sessionTtl, limiter, {
      failed: (reason) => failures.inc({ reason }),
      lockedOut: (scope) => lockouts.inc({ scope }),
    });
    this.routes = buildRoutes({
      database,
      auth: this.auth,
      jobRunner,
      logger,
      bodyLimit: config.rest.bodyLimit,
      maxPerPage: config.rest.maxPerPage,
      maxTokenTtlMs: config.auth.maxTokenTtl,
      fleetChanged: () => cache.invalidate(),
    });
    this.#router = new RestRouter(this.routes);
    this.#requests = metrics.counter("df_manager_rest_requests_total", "REST requests by method, route and status", ["method", "route", "status"]);
    this.#duration = metrics.histogram("df_manager_rest_request_duration_seconds", "REST request latency", {
      labelNames: ["method", "route"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    });
  }

  async start(): Promise<AddressInfo> {
    const [host, port] = parseListen(this.config.restListen, "restListen", "0.0.0.0");
    const server = createServer((request, response) => void this.#handle(request, response));
    server.headersTimeout = 30_000;
    server.requestTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) =>
        reject(new DfError("UNAVAILABLE", `cannot listen on ${this.config.restListen}: ${error.message}`, { cause: error, reason: "bind-failed" })),
      );
      server.listen(port, host, () => resolve());
    });
    this.#server = server;
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = request.method ?? "GET";
    const url = new URL(request.url ?? "/", "http://manager");
    let label = "unmatched";
    let status = 500;
    try {
      if (method === "GET" && (url.pathname === "/healthy" || url.pathname === "/metrics" || url.pathname === "/api/v1/openapi.json")) {
        label = url.pathname;
        status = await this.#builtin(url.pathname, response);
        return;
      }
      if ((method === "GET" || method === "HEAD") && isConsolePath(url.pathname)) {
        label = "/console";
        status = await this.#console.serve(request, response, url.pathname);
        return;
      }
      const found = this.#router.match(method, url.pathname);
      if (found === undefined) throw new DfError("NOT_FOUND", `no route ${method} ${url.pathname}; see GET /api/v1/openapi.json`, { reason: "no-route" });
      if (found === "wrong-method") throw new DfError("UNIMPLEMENTED", `${method} is not allowed on ${url.pathname}`, { reason: "method-not-allowed" });
      const { route, params } = found;
      label = route.path;
      const principal = route.access === "public" ? undefined : await this.auth.authenticate(request.headers.authorization);
      if (principal) authorize(route, principal);
      const { bodyLimit, maxJsonDepth } = this.config.rest;
      const body = route.method === "POST" || route.method === "PATCH" ? await readJson(request, bodyLimit, maxJsonDepth) : undefined;
      const ctx: RequestContext = { request, params, query: Object.fromEntries(url.searchParams), body, principal };
      const reply = await route.handler(ctx);
      status = reply.status ?? 200;
      sendJson(response, status, status === 204 ? undefined : redacted(route, principal, reply.body), reply.headers);
    } catch (error) {
      const { status: errorStatus, body } = errorBody(error);
      status = errorStatus;
      if (status >= 500) {
        this.logger[status === 503 ? "warn" : "error"]("REST request failed", {
          method,
          path: url.pathname,
          status,
          error: (error as Error).message,
          ...(isDfError(error) && error.cause instanceof Error ? { cause: error.cause.message } : {}),
        });
      }
      if (!response.headersSent) {
        sendJson(response, status, body, errorHeaders(error, status));
      } else response.destroy();
    } finally {
      this.#requests.inc({ method, route: label, status: String(status) });
      this.#duration.observe({ method, route: label }, (performance.now() - started) / 1000);
    }
  }

  async #builtin(path: string, response: ServerResponse): Promise<number> {
    if (path === "/metrics") {
      const text = await this.metrics.text();
      response.writeHead(200, { "content-type": this.metrics.registry.contentType });
      response.end(text);
      return 200;
    }
    if (path === "/api/v1/openapi.json") {
      this.#openapi ??= JSON.stringify(openApiDocument(this.routes, API_VERSION));
      response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      response.end(this.#openapi);
      return 200;
    }
    const ok = await this.database
      .run((db) => db.selectFrom("users").select("id").limit(1).execute())
      .then(
        () => true,
        () => false,
      );
    sendJson(response, ok ? 200 : 503, ok ? { status: "ok" } : { code: "UNAVAILABLE", message: "the database is unavailable" });
    return ok ? 200 : 503;
  }
}

/** The answer as `principal` may see it: as it is for root, through the route's `redact` for anyone else. */
function redacted(route: Route, principal: Principal | undefined, body: unknown): unknown {
  if (!route.redact || body === undefined || principal?.role === "root") return body;
  return Array.isArray(body) ? body.map((item) => route.redact!(item)) : route.redact(body);
}

function errorHeaders(error: unknown, status: number): Record<string, string> {
  // An unread body would otherwise keep the connection busy: close it after a 413.
  if (status === 413) return { connection: "close" };
  const retryAfter = isDfError(error) ? error.details?.["retryAfterSeconds"] : undefined;
  return typeof retryAfter === "number" ? { "retry-after": String(retryAfter) } : {};
}

function authorize(route: Route, principal: Principal): void {
  if (principal.scopes && route.resource && !principal.scopes.includes("*") && !principal.scopes.includes(route.resource)) {
    throw new DfError("PERMISSION_DENIED", `this token's scopes (${principal.scopes.join(", ")}) do not include ${route.resource}`, {
      reason: "token-scope",
    });
  }
  if (route.access === "write" && principal.role !== "root") {
    throw new DfError("PERMISSION_DENIED", `${principal.name} is a ${principal.role}: guests may only read`, { reason: "read-only-role" });
  }
}

