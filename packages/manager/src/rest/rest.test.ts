import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manager } from "../manager.js";
import { DB_KINDS, ROOT_PASSWORD, restClient, signin, startTestManager, testDatabaseUrl } from "../test-support/databases.js";

const EVIL = [`'; DROP TABLE users; --`, `" OR "1"="1`, `x'); delete from audit_log where ('a'='a`, `\\'; select pg_sleep(5); --`, `$1 $$ ::jsonb {"a":1}`, `Robert'); DROP TABLE scheduler_clusters;--`];

describe.each(DB_KINDS)("REST API on %s", (kind) => {
  let manager: Manager;
  let call: ReturnType<typeof restClient>;
  let root: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await testDatabaseUrl(kind);
    drop = db.drop;
    manager = await startTestManager(db.url, { rest: { bodyLimit: 4096, maxPerPage: 50 } });
    call = restClient(manager);
    root = await signin(manager);
  });
  afterAll(async () => {
    await manager?.stop();
    await drop?.();
  });

  async function guest(name: string): Promise<string> {
    const created = await call("POST", "/api/v1/users", { token: root, body: { name, password: "guest-password", role: "guest" } });
    expect(created.status).toBe(201);
    return signin(manager, name, "guest-password");
  }

  it("signs in with the right password only; every other request needs a valid token", async () => {
    for (const body of [{ name: "root", password: "wrong-password" }, { name: "nobody", password: ROOT_PASSWORD }]) {
      const answer = await call("POST", "/api/v1/users/signin", { body });
      expect(answer).toMatchObject({ status: 401, body: { code: "UNAUTHENTICATED", message: "wrong user name or password" } });
    }
    expect((await call("GET", "/api/v1/scheduler-clusters")).status).toBe(401);
    expect((await call("GET", "/api/v1/scheduler-clusters", { token: "dfs_forged" })).status).toBe(401);
    expect((await call("GET", "/api/v1/scheduler-clusters", { token: "nonsense" })).status).toBe(401);
    const me = await call("GET", "/api/v1/users/me", { token: root });
    expect(me).toMatchObject({ status: 200, body: { name: "root", role: "root" } });
    expect(me.body).not.toHaveProperty("password_hash");
    // Signing out ends the session.
    const session = await signin(manager);
    expect((await call("POST", "/api/v1/users/signout", { token: session })).status).toBe(204);
    expect((await call("GET", "/api/v1/users/me", { token: session })).status).toBe(401);
  });

  it("rejects an expired session", async () => {
    const session = await signin(manager);
    await sql`update sessions set expires_at = now() - interval '1 second'`.execute(manager.database.db);
    const answer = await call("GET", "/api/v1/users/me", { token: session });
    expect(answer).toMatchObject({ status: 401, body: { message: "the session has expired: sign in again" } });
    root = await signin(manager);
  });

  it("lets a guest read but not write", async () => {
    const token = await guest(`guest-${kind}`);
    expect((await call("GET", "/api/v1/scheduler-clusters", { token })).status).toBe(200);
    for (const [method, path, body] of [
      ["POST", "/api/v1/scheduler-clusters", { name: "g" }],
      ["PATCH", "/api/v1/scheduler-clusters/1", { bio: "g" }],
      ["DELETE", "/api/v1/scheduler-clusters/1", undefined],
      ["POST", "/api/v1/jobs", { type: "preheat", args: { urls: ["http://x/y"] } }],
      ["POST", "/api/v1/users", { name: "x", password: "12345678x" }],
    ] as const) {
      const answer = await call(method, path, { token, ...(body ? { body } : {}) });
      expect(answer, `${method} ${path}`).toMatchObject({ status: 403, body: { code: "PERMISSION_DENIED" } });
    }
    // A guest may still change their own password.
    const me = await call("GET", "/api/v1/users/me", { token });
    expect((await call("POST", `/api/v1/users/${me.body.id}/password`, { token, body: { old_password: "wrong-one", new_password: "another-password" } })).status).toBe(400);
    expect((await call("POST", `/api/v1/users/${me.body.id}/password`, { token, body: { old_password: "guest-password", new_password: "another-password" } })).status).toBe(204);
    expect((await call("POST", "/api/v1/users/1/password", { token, body: { new_password: "hijacked-password" } })).status).toBe(403);
  });

  it("issues personal access tokens once, stores only their hash, honours scopes, expiry and revocation", async () => {
    const created = await call("POST", "/api/v1/personal-access-tokens", { token: root, body: { name: "ci", scopes: ["jobs"] } });
    expect(created.status).toBe(201);
    const pat = created.body.token as string;
    expect(pat).toMatch(/^dfp_/);
    const stored = await manager.database.db.selectFrom("personal_access_tokens").select("token_hash").where("id", "=", created.body.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(pat.slice(4));
    expect((await call("GET", `/api/v1/personal-access-tokens/${created.body.id}`, { token: root })).body).not.toHaveProperty("token");

    expect((await call("GET", "/api/v1/jobs", { token: pat })).status).toBe(200);
    expect((await call("GET", "/api/v1/scheduler-clusters", { token: pat })).status).toBe(403);

    const short = await call("POST", "/api/v1/personal-access-tokens", { token: root, body: { name: "short", scopes: ["*"], expires_at: new Date(Date.now() + 60_000).toISOString() } });
    expect((await call("GET", "/api/v1/configs", { token: short.body.token })).status).toBe(200);
    await sql`update personal_access_tokens set expires_at = now() - interval '1 second' where id = ${short.body.id}`.execute(manager.database.db);
    expect(await call("GET", "/api/v1/configs", { token: short.body.token })).toMatchObject({ status: 401, body: { message: "the personal access token has expired" } });

    expect((await call("DELETE", `/api/v1/personal-access-tokens/${created.body.id}`, { token: root })).status).toBe(204);
    expect(await call("GET", "/api/v1/jobs", { token: pat })).toMatchObject({ status: 401, body: { message: "the personal access token has been revoked" } });
    expect((await call("GET", `/api/v1/personal-access-tokens/${created.body.id}`, { token: root })).body).toMatchObject({ revoked: true });

    const past = await call("POST", "/api/v1/personal-access-tokens", { token: root, body: { name: "past", scopes: ["*"], expires_at: "2000-01-01T00:00:00Z" } });
    expect(past).toMatchObject({ status: 400, body: { field: "expires_at" } });
    expect(await call("POST", "/api/v1/personal-access-tokens", { token: root, body: { name: "bad", scopes: ["everything"] } })).toMatchObject({ status: 400, body: { field: "scopes.0" } });
  });

  it("round-trips SQL-injection-shaped strings unchanged in every text field", async () => {
    for (const [i, evil] of EVIL.entries()) {
      const tag = `${evil}#${i}`;
      const cluster = await call("POST", "/api/v1/scheduler-clusters", {
        token: root,
        body: { name: tag, bio: evil, scopes: { idc: evil, location: evil, hostnames: ["^x$"] }, config: { evaluator: { name: evil, options: { note: evil } } }, client_config: { blockList: [evil] } },
      });
      expect(cluster.status, JSON.stringify(cluster.body)).toBe(201);
      expect(cluster.body).toMatchObject({ name: tag, bio: evil, scopes: { idc: evil, location: evil }, config: { evaluator: { name: evil, options: { note: evil } } }, client_config: { blockList: [evil] } });
      const seedCluster = await call("POST", "/api/v1/seed-peer-clusters", { token: root, body: { name: tag, bio: evil } });
      expect(seedCluster.body).toMatchObject({ name: tag, bio: evil });
      const scheduler = await call("POST", "/api/v1/schedulers", {
        token: root,
        body: { hostname: tag, ip: "10.1.2.3", port: 1, idc: evil, location: evil, version: evil, features: [evil.slice(0, 60)], scheduler_cluster_id: cluster.body.id },
      });
      expect(scheduler.body).toMatchObject({ hostname: tag, idc: evil, location: evil, version: evil });
      const seed = await call("POST", "/api/v1/seed-peers", { token: root, body: { hostname: tag, ip: "10.1.2.4", port: 1, type: evil.slice(0, 60), idc: evil, location: evil, seed_peer_cluster_id: seedCluster.body.id } });
      expect(seed.body).toMatchObject({ hostname: tag, idc: evil, location: evil });
      const app = await call("POST", "/api/v1/applications", { token: root, body: { name: tag, url: evil, bio: evil, priority: { value: 1, urls: [{ regex: "a", value: 2 }] } } });
      expect(app.body).toMatchObject({ name: tag, url: evil, bio: evil });
      const config = await call("POST", "/api/v1/configs", { token: root, body: { name: tag, value: evil, bio: evil } });
      expect(config.body).toMatchObject({ name: tag, value: evil, bio: evil });
      const user = await call("POST", "/api/v1/users", { token: root, body: { name: tag, email: evil, password: `${evil}-password` } });
      expect(user.body).toMatchObject({ name: tag, email: evil, role: "guest" });
      expect((await call("POST", "/api/v1/users/signin", { body: { name: tag, password: `${evil}-password` } })).status).toBe(200);
      const pat = await call("POST", "/api/v1/personal-access-tokens", { token: root, body: { name: tag, bio: evil, scopes: ["*"] } });
      expect(pat.body).toMatchObject({ name: tag, bio: evil });
      const job = await call("POST", "/api/v1/jobs", { token: root, body: { type: "preheat", args: { urls: ["https://example.com/a?q='--"], tag: evil, application: evil, headers: { "x-evil": evil } } } });
      expect(job.body).toMatchObject({ state: "PENDING", args: { tag: evil, application: evil, headers: { "x-evil": evil } } });
      // Read back through the list filters too (they are parameters, never SQL text).
      const found = await call("GET", `/api/v1/scheduler-clusters?name=${encodeURIComponent(tag)}`, { token: root });
      expect(found.body).toEqual([expect.objectContaining({ id: cluster.body.id, name: tag })]);
    }
    // Every table is still there, with its rows.
    const users = await call("GET", "/api/v1/users?per_page=50", { token: root });
    expect(Number(users.headers.get("x-total-count"))).toBeGreaterThanOrEqual(EVIL.length + 1);
    const audits = await call("GET", "/api/v1/audits?per_page=5", { token: root });
    expect(audits.status).toBe(200);
  });

  it("validates input: 400 naming the field for bad CIDRs, regexes, limits and unknown fields; 413 for big bodies", async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: "c", scopes: { cidrs: ["10.0.0.0/8", "10.0.0.0/33"] } }, "scopes.cidrs.1"],
      [{ name: "c", scopes: { cidrs: ["not-a-cidr"] } }, "scopes.cidrs.0"],
      [{ name: "c", scopes: { hostnames: ["(unclosed"] } }, "scopes.hostnames.0"],
      [{ name: "c", config: { candidateParentLimit: 21 } }, "config.candidateParentLimit"],
      [{ name: "c", config: { filterParentLimit: 9 } }, "config.filterParentLimit"],
      [{ name: "c", client_config: { loadLimit: 0 } }, "client_config.loadLimit"],
      [{ name: "" }, "name"],
      [{ name: "c", colour: "red" }, "colour"],
      [{ name: "c", seed_peer_cluster_ids: [987654] }, "seed_peer_cluster_ids"],
    ];
    for (const [body, field] of cases) {
      const answer = await call("POST", "/api/v1/scheduler-clusters", { token: root, body });
      expect(answer, JSON.stringify(body)).toMatchObject({ status: 400, body: { code: "INVALID_ARGUMENT", field } });
    }
    expect(await call("POST", "/api/v1/applications", { token: root, body: { name: "a", priority: { value: 1, urls: [{ regex: "[", value: 1 }] } } })).toMatchObject({ status: 400, body: { field: "priority.urls.0.regex" } });
    expect(await call("POST", "/api/v1/schedulers", { token: root, body: { hostname: "h", ip: "1.2.3", port: 1, scheduler_cluster_id: 1 } })).toMatchObject({ status: 400, body: { field: "ip" } });
    expect(await call("POST", "/api/v1/schedulers", { token: root, body: { hostname: "h", ip: "1.2.3.4", port: 1, scheduler_cluster_id: 999999 } })).toMatchObject({ status: 400, body: { field: "scheduler_cluster_id" } });
    expect(await call("POST", "/api/v1/jobs", { token: root, body: { type: "preheat", args: { urls: ["ftp://x/y"] } } })).toMatchObject({ status: 400, body: { field: "args.urls.0" } });
    expect(await call("POST", "/api/v1/scheduler-clusters", { token: root, raw: "{not json" })).toMatchObject({ status: 400, body: { code: "INVALID_ARGUMENT" } });
    expect(await call("GET", "/api/v1/scheduler-clusters/abc", { token: root })).toMatchObject({ status: 400, body: { field: "id" } });
    expect(await call("GET", "/api/v1/scheduler-clusters/424242", { token: root })).toMatchObject({ status: 404 });
    expect(await call("PUT", "/api/v1/scheduler-clusters/1", { token: root, body: {} })).toMatchObject({ status: 405 });

    const big = await call("POST", "/api/v1/configs", { token: root, body: { name: "big", value: "x".repeat(5000) } });
    expect(big).toMatchObject({ status: 413, body: { code: "RESOURCE_EXHAUSTED" } });
    expect(await call("GET", "/api/v1/configs?name=big", { token: root })).toMatchObject({ body: [] });

    const dup = await call("POST", "/api/v1/scheduler-clusters", { token: root, body: { name: "cluster-1" } });
    expect(dup).toMatchObject({ status: 409, body: { code: "ALREADY_EXISTS", field: "name" } });
  });

  it("answers 404 for a path with an empty segment (/a//b is not /a/b) and 405 for a known path's other methods", async () => {
    for (const [method, path] of [
      ["GET", "/api/v1//scheduler-clusters"],
      ["GET", "/api/v1/users//me"],
      ["POST", "/api/v1/users//password"],
      ["DELETE", "/api/v1/configs//"],
    ] as const) {
      const answer = await call(method, path, { token: root, ...(method === "POST" ? { body: { new_password: "hijacked-password" } } : {}) });
      expect(answer, `${method} ${path}`).toMatchObject({ status: 404, body: { code: "NOT_FOUND", message: `no route ${method} ${path}; see GET /api/v1/openapi.json` } });
    }
    const wrong = await call("DELETE", "/api/v1/audits", { token: root });
    expect(wrong).toMatchObject({ status: 405, body: { code: "UNIMPLEMENTED", message: "DELETE is not allowed on /api/v1/audits" } });
    expect(wrong.headers.get("cache-control")).toBe("no-store");
    expect((await call("GET", "/api/v1/configs/", { token: root })).status).toBe(200);
  });

  it("paginates with page and per_page, the total in X-Total-Count", async () => {
    for (let i = 0; i < 23; i++) expect((await call("POST", "/api/v1/configs", { token: root, body: { name: `page-${String(i).padStart(2, "0")}`, value: String(i) } })).status).toBe(201);
    const all = await call("GET", "/api/v1/configs?per_page=50", { token: root });
    const total = Number(all.headers.get("x-total-count"));
    expect(total).toBe(all.body.length);
    const third = await call("GET", "/api/v1/configs?page=3&per_page=10", { token: root });
    expect(third.body.map((c: { id: number }) => c.id)).toEqual(all.body.slice(20, 30).map((c: { id: number }) => c.id));
    expect(third.headers.get("x-total-count")).toBe(String(total));
    expect((await call("GET", "/api/v1/configs", { token: root })).body).toHaveLength(10);
    expect(await call("GET", "/api/v1/configs?per_page=51", { token: root })).toMatchObject({ status: 400, body: { field: "per_page" } });
    expect(await call("GET", "/api/v1/configs?page=0", { token: root })).toMatchObject({ status: 400, body: { field: "page" } });
    expect((await call("GET", "/api/v1/configs?page=99", { token: root })).body).toEqual([]);
  });

  it("answers 503 and writes nothing when the database fails mid-request", async () => {
    // The database drops the session while the audit row is written, after the cluster row.
    await sql.raw(`create or replace function df_test_fail() returns trigger language plpgsql as $$
      begin raise exception 'database going away' using errcode = 'admin_shutdown'; end $$`).execute(manager.database.db);
    await sql.raw(`create trigger df_test_fail before insert on audit_log for each row execute function df_test_fail()`).execute(manager.database.db);
    try {
      const answer = await call("POST", "/api/v1/scheduler-clusters", { token: root, body: { name: "half-written", seed_peer_cluster_ids: [1] } });
      expect(answer).toMatchObject({ status: 503, body: { code: "UNAVAILABLE" } });
    } finally {
      await sql.raw(`drop trigger df_test_fail on audit_log`).execute(manager.database.db);
    }
    expect(await manager.database.db.selectFrom("scheduler_clusters").select("id").where("name", "=", "half-written").execute()).toEqual([]);
    expect((await call("GET", "/api/v1/scheduler-clusters?name=half-written", { token: root })).body).toEqual([]);
  });

  it("writes an audit row for every change", async () => {
    const created = await call("POST", "/api/v1/configs", { token: root, body: { name: "audited", value: "1" } });
    await call("PATCH", `/api/v1/configs/${created.body.id}`, { token: root, body: { value: "2" } });
    await call("DELETE", `/api/v1/configs/${created.body.id}`, { token: root });
    const log = await call("GET", "/api/v1/audits?resource=configs&per_page=3", { token: root });
    expect(log.body.map((a: { action: string; resource_id: string; actor: string }) => [a.action, a.resource_id, a.actor])).toEqual([
      ["delete", String(created.body.id), "root"],
      ["update", String(created.body.id), "root"],
      ["create", String(created.body.id), "root"],
    ]);
  });

  it("keeps at least one root user", async () => {
    expect(await call("DELETE", "/api/v1/users/1", { token: root })).toMatchObject({ status: 409, body: { code: "FAILED_PRECONDITION" } });
    expect(await call("PATCH", "/api/v1/users/1", { token: root, body: { role: "guest" } })).toMatchObject({ status: 409 });
  });

  it("serves an OpenAPI 3.1 document built from the validation schemas", async () => {
    const { status, body } = await call("GET", "/api/v1/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    const create = body.paths["/api/v1/scheduler-clusters"].post;
    const schema = create.requestBody.content["application/json"].schema;
    expect(schema.properties.config.properties.candidateParentLimit).toMatchObject({ type: "integer", minimum: 1, maximum: 20 });
    expect(schema.required).toEqual(["name"]);
    expect(body.paths["/api/v1/users/signin"].post.security).toEqual([]);
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(["/api/v1/jobs", "/api/v1/personal-access-tokens/{id}", "/api/v1/seed-peers", "/api/v1/peers", "/api/v1/applications", "/api/v1/configs", "/api/v1/roles", "/api/v1/audits"]));
    const health = await fetch(`${manager.addresses.restUrl}/healthy`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${manager.addresses.restUrl}/metrics`)).text();
    expect(metrics).toContain("df_manager_rest_requests_total");
    expect(metrics).toMatch(/df_manager_members\{kind="scheduler",state="/);
  });
});

describe("the root password", () => {
  it("must be set and not a well-known default", async () => {
    for (const [password, message] of [
      [undefined, /root password is not set: set auth.rootPassword .* or DF_MANAGER_ROOT_PASSWORD/],
      ["dragonfly", /must not be a well-known default/],
      ["Password", /must not be a well-known default/],
      ["short", /at least 8 characters/],
    ] as const) {
      await expect(startTestManager("pglite:", { auth: { rootPassword: password } }, { env: {} })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(message) });
    }
  });
});
