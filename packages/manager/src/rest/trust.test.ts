import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manager } from "../manager.js";
import { DB_KINDS, ROOT_PASSWORD, restClient, signin, startTestManager, testDatabaseUrl } from "../test-support/databases.js";

const REDACTED = "<redacted>";
// Long enough that a loaded machine still sees the lockout in force between two requests.
const LOCKOUT_MS = 3000;

// Issue 14 item 7: what a guest may not read, sign-in limits, tokens minted by tokens, deep JSON.
describe.each(DB_KINDS)("the manager's trust rules on %s", (kind) => {
  let manager: Manager;
  let call: ReturnType<typeof restClient>;
  let root: string;
  let guest: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await testDatabaseUrl(kind);
    drop = db.drop;
    manager = await startTestManager(db.url, {
      auth: { signin: { maxFailuresPerUser: 3, maxFailuresPerAddress: 6, lockout: LOCKOUT_MS } },
      rest: { maxJsonDepth: 16 },
    });
    call = restClient(manager);
    root = await signin(manager);
    expect((await call("POST", "/api/v1/users", { token: root, body: { name: "reader", password: "reader-password", role: "guest" } })).status).toBe(201);
    guest = await signin(manager, "reader", "reader-password");
  });
  afterAll(async () => {
    await manager?.stop();
    await drop?.();
  });

  /** A sign-in from one loopback address (the whole of 127/8 is local on Linux). */
  function signinFrom(localAddress: string, name: string, password: string): Promise<{ status: number; retryAfter: string | undefined; body: { code?: string; message?: string } }> {
    const url = new URL(`${manager.addresses.restUrl}/api/v1/users/signin`);
    return new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", localAddress, headers: { "content-type": "application/json" } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"], body: JSON.parse(text) }));
      });
      req.on("error", reject);
      req.end(JSON.stringify({ name, password }));
    });
  }

  const audits = async (token: string, action?: string) =>
    (await call("GET", `/api/v1/audits?per_page=200${action ? `&action=${action}` : ""}`, { token })).body as Array<{ action: string; actor: string; resource: string; resource_id: string; details: Record<string, unknown> }>;

  it("shows guests no credential header, URL credential or secret config value in jobs, audits and configs; root sees them", async () => {
    const secrets = ["Bearer s3cr3t-header", "k3y-value", "sig-value-1", "url-pass", "AKIA-value", "hidden-value"];
    const job = await call("POST", "/api/v1/jobs", {
      token: root,
      body: {
        type: "preheat",
        args: { urls: ["https://bob:url-pass@example.com/a?X-Amz-Signature=sig-value-1&v=1"], headers: { Authorization: "Bearer s3cr3t-header", "X-Api-Key": "k3y-value", Accept: "*/*" } },
      },
    });
    expect(job.status).toBe(201);
    const aws = await call("POST", "/api/v1/configs", { token: root, body: { name: "s3_access_key", value: "AKIA-value" } });
    const plain = await call("POST", "/api/v1/configs", { token: root, body: { name: "greeting", value: "hello" } });
    const flagged = await call("POST", "/api/v1/configs", { token: root, body: { name: "plain-name", value: "hidden-value", secret: true } });
    expect([aws.body.secret, plain.body.secret, flagged.body.secret]).toEqual([true, false, true]);
    expect((await call("PATCH", `/api/v1/configs/${aws.body.id}`, { token: root, body: { value: "AKIA-value-2" } })).status).toBe(200);

    const guestJob = await call("GET", `/api/v1/jobs/${job.body.id}`, { token: guest });
    expect(guestJob.body.args).toEqual({
      urls: ["https://redacted:redacted@example.com/a?X-Amz-Signature=redacted&v=1"],
      headers: { Authorization: REDACTED, "X-Api-Key": REDACTED, Accept: "*/*" },
      scope: "single_seed_peer",
    });
    const guestJobs = await call("GET", "/api/v1/jobs?per_page=50", { token: guest });
    const guestConfigs = await call("GET", "/api/v1/configs?per_page=50", { token: guest });
    expect(guestConfigs.body.find((c: { name: string }) => c.name === "s3_access_key")).toMatchObject({ value: REDACTED, secret: true });
    expect(guestConfigs.body.find((c: { name: string }) => c.name === "greeting")).toMatchObject({ value: "hello", secret: false });
    expect((await call("GET", `/api/v1/configs/${flagged.body.id}`, { token: guest })).body).toMatchObject({ value: REDACTED });
    const guestAudits = await audits(guest);
    expect(guestAudits.find((a) => a.resource === "configs" && a.resource_id === String(aws.body.id) && a.action === "update")?.details).toEqual({ value: REDACTED, secret: true });
    expect(guestAudits.find((a) => a.resource === "configs" && a.resource_id === String(plain.body.id))?.details).toMatchObject({ value: "hello" });
    // A guest's personal access token is a guest too.
    const guestPat = (await call("POST", "/api/v1/personal-access-tokens", { token: guest, body: { name: "g", scopes: ["*"] } })).body.token as string;
    const viaPat = await call("GET", `/api/v1/jobs/${job.body.id}`, { token: guestPat });
    for (const body of [guestJob.body, guestJobs.body, guestConfigs.body, guestAudits, viaPat.body]) {
      const text = JSON.stringify(body);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }

    // Root, signed in or through a token, sees everything.
    const rootPat = (await call("POST", "/api/v1/personal-access-tokens", { token: root, body: { name: "r", scopes: ["*"] } })).body.token as string;
    for (const token of [root, rootPat]) {
      const seen = JSON.stringify([
        (await call("GET", `/api/v1/jobs/${job.body.id}`, { token })).body,
        (await call("GET", "/api/v1/configs?per_page=50", { token })).body,
        await audits(token),
      ]);
      for (const secret of ["Bearer s3cr3t-header", "k3y-value", "sig-value-1", "url-pass", "AKIA-value-2", "hidden-value"]) expect(seen).toContain(secret);
    }

    // No longer secret: the value shows.
    expect((await call("PATCH", `/api/v1/configs/${flagged.body.id}`, { token: root, body: { secret: false } })).body).toMatchObject({ secret: false });
    expect((await call("GET", `/api/v1/configs/${flagged.body.id}`, { token: guest })).body).toMatchObject({ value: "hidden-value" });
  });

  it("locks a user out after too many failed sign-ins (429, Retry-After), audits every failure with name and address but never the password", async () => {
    expect((await call("POST", "/api/v1/users", { token: root, body: { name: "victim", password: "victim-password" } })).status).toBe(201);
    for (let i = 1; i <= 3; i++) {
      const answer = await signinFrom("127.0.0.1", "victim", `wrong-guess-${i}`);
      expect(answer).toMatchObject({ status: 401, body: { message: "wrong user name or password" } });
    }
    // Locked: even the right password, from anywhere, is refused without being checked.
    for (const address of ["127.0.0.1", "127.0.0.2"]) {
      const locked = await signinFrom(address, "victim", "victim-password");
      expect(locked).toMatchObject({ status: 429, body: { code: "RESOURCE_EXHAUSTED", message: expect.stringMatching(/^too many failed sign-ins for this user: try again in [1-3] s$/) } });
      expect(Number(locked.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(locked.retryAfter)).toBeLessThanOrEqual(3);
    }
    // Someone else signs in as usual.
    expect((await signinFrom("127.0.0.1", "reader", "reader-password")).status).toBe(200);

    const failed = (await audits(root, "signin-failed")).filter((a) => a.details["name"] === "victim");
    expect(failed).toHaveLength(3);
    for (const row of failed) {
      expect(row).toMatchObject({ actor: "anonymous", resource: "users", details: { name: "victim", address: "127.0.0.1", known: true, reason: "wrong-credentials" } });
    }
    const locks = (await audits(root, "signin-locked")).filter((a) => a.details["name"] === "victim");
    expect(locks.map((a) => a.details)).toEqual([{ name: "victim", address: "127.0.0.1", known: true, scope: "user" }]);
    expect(JSON.stringify(await audits(root))).not.toContain("wrong-guess");
    const ok = (await audits(root, "signin")).find((a) => a.actor === "reader");
    expect(ok?.details).toEqual({ address: "127.0.0.1" });

    const metrics = await (await fetch(`${manager.addresses.restUrl}/metrics`)).text();
    expect(metrics).toMatch(/df_manager_signin_failures_total\{reason="wrong-credentials"\} [3-9]/);
    expect(metrics).toMatch(/df_manager_signin_failures_total\{reason="locked-out"\} [2-9]/);
    expect(metrics).toMatch(/df_manager_signin_lockouts_total\{scope="user"\} 1\b/);

    await new Promise((r) => setTimeout(r, LOCKOUT_MS + 100));
    expect((await signinFrom("127.0.0.1", "victim", "victim-password")).status).toBe(200);

    // A name no user has may be a password typed in the wrong field: root sees it, guests do not.
    expect((await signinFrom("127.0.0.1", "typed-my-password", "x")).status).toBe(401);
    const byRoot = (await audits(root, "signin-failed")).find((a) => a.details["known"] === false);
    expect(byRoot?.details).toMatchObject({ name: "typed-my-password", address: "127.0.0.1" });
    expect(JSON.stringify(await audits(guest, "signin-failed"))).not.toContain("typed-my-password");
  });

  it("bounds a token created by a token by its expiry and scopes, and revokes it with its parent", async () => {
    const parentExpiry = new Date(Date.now() + 86_400_000);
    const parent = await call("POST", "/api/v1/personal-access-tokens", {
      token: root,
      body: { name: "parent", scopes: ["personal-access-tokens", "jobs"], expires_at: parentExpiry.toISOString() },
    });
    expect(parent.body).toMatchObject({ parent_id: null });
    const p = parent.body.token as string;

    const longer = await call("POST", "/api/v1/personal-access-tokens", { token: p, body: { name: "longer", scopes: ["jobs"], expires_at: new Date(Date.now() + 2 * 86_400_000).toISOString() } });
    expect(longer).toMatchObject({ status: 400, body: { field: "expires_at", message: expect.stringContaining("when the token creating it expires") } });
    for (const scopes of [["*"], ["configs"], ["jobs", "audits"]]) {
      expect((await call("POST", "/api/v1/personal-access-tokens", { token: p, body: { name: "wider", scopes } })).status).toBe(403);
    }

    // Default expiry (30 days) is cut to the parent's.
    const child = await call("POST", "/api/v1/personal-access-tokens", { token: p, body: { name: "child", scopes: ["personal-access-tokens", "jobs"] } });
    expect(child).toMatchObject({ status: 201, body: { parent_id: parent.body.id } });
    expect(new Date(child.body.expires_at).getTime()).toBe(new Date(parent.body.expires_at).getTime());
    const grandchild = await call("POST", "/api/v1/personal-access-tokens", { token: child.body.token, body: { name: "grandchild", scopes: ["jobs"] } });
    expect(grandchild).toMatchObject({ status: 201, body: { parent_id: child.body.id } });
    const sibling = await call("POST", "/api/v1/personal-access-tokens", { token: root, body: { name: "sibling", scopes: ["jobs"] } });
    for (const t of [p, child.body.token, grandchild.body.token, sibling.body.token]) expect((await call("GET", "/api/v1/jobs", { token: t })).status).toBe(200);

    expect((await call("DELETE", `/api/v1/personal-access-tokens/${parent.body.id}`, { token: root })).status).toBe(204);
    for (const t of [p, child.body.token, grandchild.body.token]) {
      expect(await call("GET", "/api/v1/jobs", { token: t })).toMatchObject({ status: 401, body: { message: "the personal access token has been revoked" } });
    }
    expect((await call("GET", "/api/v1/jobs", { token: sibling.body.token })).status).toBe(200);
    const revoke = (await audits(root, "revoke")).find((a) => a.resource_id === String(parent.body.id));
    expect(revoke?.details).toEqual({ descendants: [child.body.id, grandchild.body.id] });
  });

  it("answers 400, not 500, for a JSON body nested deeper than rest.maxJsonDepth", async () => {
    const deep = 50_000;
    const bomb = `{"name":"deep","value":"x","bio":${"[".repeat(deep)}${"]".repeat(deep)}}`;
    expect(await call("POST", "/api/v1/configs", { token: root, raw: bomb })).toMatchObject({
      status: 400,
      body: { code: "INVALID_ARGUMENT", message: "the request body is nested more than 16 levels deep" },
    });
    // Sixteen levels pass, seventeen do not; brackets inside strings are text.
    const nested = (levels: number): unknown => (levels === 0 ? "leaf" : { a: nested(levels - 1) });
    const cluster = (levels: number, name: string) => ({ name, bio: "[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{", config: { evaluator: { name: "score", options: nested(levels) } } });
    expect((await call("POST", "/api/v1/scheduler-clusters", { token: root, body: cluster(13, "sixteen-deep") })).status).toBe(201);
    expect(await call("POST", "/api/v1/scheduler-clusters", { token: root, body: cluster(14, "seventeen-deep") })).toMatchObject({ status: 400, body: { message: "the request body is nested more than 16 levels deep" } });
    // Sign-in bodies are checked the same way.
    expect((await call("POST", "/api/v1/users/signin", { raw: `{"name":${"[".repeat(100)}` })).status).toBe(400);
  });

  // Last: it leaves 127.0.0.2 locked out.
  it("locks out an address that fails for many names, and only that address", async () => {
    for (let i = 1; i <= 6; i++) expect((await signinFrom("127.0.0.2", `nobody-${i}`, "guess")).status).toBe(401);
    const locked = await signinFrom("127.0.0.2", "root", ROOT_PASSWORD);
    expect(locked).toMatchObject({ status: 429, body: { message: expect.stringMatching(/^too many failed sign-ins for this address: try again in [1-3] s$/) } });
    expect((await signinFrom("127.0.0.1", "root", ROOT_PASSWORD)).status).toBe(200);
    const locks = (await audits(root, "signin-locked")).filter((a) => a.details["scope"] === "address");
    expect(locks[0]?.details).toMatchObject({ name: "nobody-6", address: "127.0.0.2", known: false });
  });
});
