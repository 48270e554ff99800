import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startOriginServer, type OriginServer } from "@df/compliance-tests";
import { startCluster, type Cluster, type ClusterManager } from "@df/example-local-cluster/cluster";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { repoRoot } from "./support/run.js";

const MiB = 2 ** 20;
/** HTML- and SQL-injection-shaped: it must come back as this literal text, never as markup. */
const EVIL_NAME = `<img src=x onerror="window.pwned=1"> '; DROP TABLE scheduler_clusters;--`;
const GUEST_PASSWORD = "guest-password-42";
/** Longest wait for something the UI refreshes on its own (every 3 s) on a loaded machine. */
const UI_TIMEOUT = 20_000;

interface Fleet {
  /** A df-manager, a scheduler and a seed peer, as processes; the members register with the manager themselves. */
  cluster: Cluster;
  manager: ClusterManager;
  origin: OriginServer;
  stop(): Promise<void>;
}

/** Everything the console shows: a manager with a real scheduler and seed peer (one cluster), and an origin. */
async function startFleet(dir: string): Promise<Fleet> {
  const origin = await startOriginServer();
  let cluster: Cluster;
  try {
    cluster = await startCluster({ dir: join(dir, "cluster"), peers: 0, manager: true });
  } catch (error) {
    await origin.close();
    throw error;
  }
  return {
    cluster,
    manager: cluster.manager!,
    origin,
    async stop() {
      await cluster.stop();
      await origin.close();
    },
  };
}

/** Debian's Chromium, installed by the project's script when missing (like PostgreSQL). */
async function launchChromium(): Promise<Browser> {
  const { stdout } = await promisify(execFile)("bash", [join(repoRoot, "scripts/ci/chromium.sh")], { timeout: 900_000 });
  const executablePath = stdout.trim().split("\n").at(-1)!;
  return chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
    timeout: 60_000,
  });
}

let dir: string;
let fleet: Fleet;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let rootToken: string;
const pages: Page[] = [];
/** Console errors and uncaught exceptions of every page (a CSP violation is one). */
const pageErrors: string[] = [];
let failed = false;

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  p.setDefaultTimeout(UI_TIMEOUT);
  // Chromium logs every 4xx answer to fetch as a console error; the console expects those.
  p.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
  });
  p.on("pageerror", (error) => pageErrors.push(error.message));
  pages.push(p);
  return { context: ctx, page: p };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- REST answers are arbitrary JSON
async function api(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${fleet.manager.restUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${options.token ?? rootToken}`, ...(options.body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function signInApi(name: string, password: string): Promise<string> {
  const response = await fetch(`${fleet.manager.restUrl}/api/v1/users/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, password }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

async function signIn(p: Page, name: string, password: string): Promise<void> {
  await p.getByLabel("User name").fill(name);
  await p.getByLabel("Password").fill(password);
  await p.getByRole("button", { name: "Sign in" }).click();
}

/** Waits for what `read` returns to match, re-reading it every 100 ms. */
const poll = <T>(read: () => Promise<T>, timeout = UI_TIMEOUT) => expect.poll(read, { timeout, interval: 100 });
const clusterCard = (p: Page, name: string): Locator => p.locator("section.cluster").filter({ has: p.getByRole("heading", { name, exact: true }) });
const memberState = (card: Locator, hostname: string): Locator => card.locator(`tr[data-member="${hostname}"] [data-state]`);
const fieldError = (p: Page, path: string): Locator => p.locator(`#cluster-${path.replace(/\./g, "-")}-error`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-console-"));
  const [started, launched] = await Promise.allSettled([startFleet(dir), launchChromium()]);
  if (started.status === "fulfilled") fleet = started.value;
  if (launched.status === "fulfilled") browser = launched.value;
  if (started.status === "rejected") throw started.reason;
  if (launched.status === "rejected") throw launched.reason;
  rootToken = await signInApi("root", fleet.manager.rootPassword);
  ({ context, page } = await newPage());
}, 900_000);

beforeEach(({ onTestFailed, task }) => {
  pageErrors.length = 0;
  onTestFailed(async () => {
    failed = true;
    const name = task.name.replace(/[^\w-]+/g, "-").slice(0, 60);
    await Promise.all(pages.filter((p) => !p.isClosed()).map((p, i) => p.screenshot({ path: join(dir, `failure-${name}-${i}.png`), fullPage: true }).catch(() => {})));
    console.error(`console e2e: screenshots of the failure in ${dir}`);
  });
});

afterEach(() => {
  expect(pageErrors, "console errors or uncaught exceptions in the page").toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  // A failure's screenshots and logs stay for whoever reads the failure.
  if (!failed) await rm(dir, { recursive: true, force: true });
});

describe("the manager's web console in Chromium", () => {
  it("sends / to the console, shows a wrong password's error and signs root in", async () => {
    const redirect = await fetch(`${fleet.manager.restUrl}/`, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("/console/");

    await page.goto(fleet.manager.restUrl);
    expect(new URL(page.url()).pathname).toBe("/console/");
    await signIn(page, "root", "not-the-password");
    await poll(() => page.getByRole("alert").textContent()).toBe("wrong user name or password");
    expect(await page.getByRole("heading", { name: "Scheduler clusters" }).count()).toBe(0);

    await signIn(page, "root", fleet.manager.rootPassword);
    await page.getByRole("heading", { name: "Scheduler clusters" }).waitFor();
    expect(await page.locator(".topbar .user-name").textContent()).toBe("root");
  });

  it("shows the default cluster's scheduler and seed peer active, with their last keepalive", async () => {
    const card = clusterCard(page, "cluster-1");
    await poll(() => memberState(card, "scheduler-1").textContent()).toBe("active");
    await poll(() => memberState(card, "seed-1").textContent()).toBe("active");
    const cells = (hostname: string) => card.locator(`tr[data-member="${hostname}"] td`).allTextContents();
    expect(await cells("scheduler-1")).toEqual(["scheduler-1", fleet.cluster.scheduler.address, "active", expect.stringMatching(/^\d+ s ago$/)]);
    expect(await cells("seed-1")).toEqual(["seed-1", fleet.cluster.seed!.upload, "super", "active", expect.stringMatching(/^\d+ s ago$/)]);
  });

  it("creates a cluster, then edits its config: a client-side error, the server's field error, and a saved value that reloads", async () => {
    const writes: string[] = [];
    const onRequest = (request: { method(): string; url(): string }) => {
      if (request.method() !== "GET" && request.url().includes("/api/v1/scheduler-clusters")) writes.push(`${request.method()} ${new URL(request.url()).pathname}`);
    };
    page.on("request", onRequest);
    try {
      await page.getByRole("link", { name: "New cluster" }).click();
      await page.getByLabel("Name", { exact: true }).fill(EVIL_NAME);
      await page.getByLabel("Candidate parent limit").fill("50");
      await page.getByRole("button", { name: "Create cluster" }).click();
      await poll(() => fieldError(page, "config.candidateParentLimit").textContent()).toBe("must be a whole number from 1 to 20");
      expect(writes).toEqual([]);

      await page.getByLabel("Candidate parent limit").fill("5");
      await page.getByRole("button", { name: "Create cluster" }).click();
      await page.getByRole("heading", { name: `Cluster ${EVIL_NAME}`, exact: true }).waitFor();
      expect(writes).toEqual(["POST /api/v1/scheduler-clusters"]);
      const id = Number(/#\/clusters\/(\d+)$/.exec(page.url())?.[1]);
      expect(id).toBeGreaterThan(1);
      expect(await page.getByLabel("Candidate parent limit").inputValue()).toBe("5");

      // The server checks what the page does not: its 400 names the field, shown beside it.
      await page.getByLabel("Filter parent limit").fill("100");
      await page.getByLabel("CIDRs").fill("10.0.0.0/99");
      const refused = page.waitForResponse((r) => r.request().method() === "PATCH");
      await page.getByRole("button", { name: "Save" }).click();
      expect(await (await refused).json()).toMatchObject({ code: "INVALID_ARGUMENT", field: "scopes.cidrs.0" });
      await poll(() => fieldError(page, "scopes.cidrs").textContent()).toBe("line 1: not a valid CIDR (e.g. 10.0.0.0/8 or fd00::/8)");
      expect(await page.getByLabel("CIDRs").getAttribute("aria-invalid")).toBe("true");

      await page.getByLabel("CIDRs").fill("10.0.0.0/8\nfd00::/8");
      await page.getByRole("button", { name: "Save" }).click();
      await poll(() => page.locator(".flash").textContent()).toBe(`Saved ${EVIL_NAME}: config revision 2.`);
      expect(await fieldError(page, "scopes.cidrs").textContent()).toBe("");
      const { body: saved } = await api("GET", `/scheduler-clusters/${id}`);
      expect(saved).toMatchObject({ name: EVIL_NAME, config: { candidateParentLimit: 5, filterParentLimit: 100 }, scopes: { cidrs: ["10.0.0.0/8", "fd00::/8"] }, config_revision: 2 });

      await page.reload();
      await page.getByRole("heading", { name: `Cluster ${EVIL_NAME}`, exact: true }).waitFor();
      expect(await page.getByLabel("Filter parent limit").inputValue()).toBe("100");
      expect(await page.getByLabel("CIDRs").inputValue()).toBe("10.0.0.0/8\nfd00::/8");
      expect(writes).toEqual(["POST /api/v1/scheduler-clusters", `PATCH /api/v1/scheduler-clusters/${id}`, `PATCH /api/v1/scheduler-clusters/${id}`]);

      await page.getByRole("link", { name: "Clusters", exact: true }).click();
      const card = clusterCard(page, EVIL_NAME);
      await card.waitFor();
      expect(await card.locator("dd").allTextContents()).toEqual(["5", "100", "200", "2"]);
      expect(await page.locator("main img").count()).toBe(0);
      expect(await page.evaluate("window.pwned")).toBeUndefined();
    } finally {
      page.off("request", onRequest);
    }
  });

  it("creates a token that is shown once, and revokes it", async () => {
    await page.getByRole("link", { name: "Tokens", exact: true }).click();
    await page.getByLabel("Name").fill("ci-console");
    await page.getByLabel("jobs", { exact: true }).check();
    await page.getByLabel("everything (*)").uncheck();
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = (await page.locator(".token-secret").textContent())!;
    expect(secret).toMatch(/^dfp_\S+$/);
    expect((await api("GET", "/jobs", { token: secret })).status).toBe(200);
    expect((await api("GET", "/scheduler-clusters", { token: secret })).status).toBe(403);

    const row = page.locator('tr[data-token="ci-console"]');
    expect(await row.locator("td").nth(1).textContent()).toBe("jobs");
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.locator(".token-secret").count()).toBe(0);
    await page.reload();
    await row.waitFor();
    expect(await page.content()).not.toContain(secret);

    await row.getByRole("button", { name: "Revoke…" }).click();
    await row.getByRole("button", { name: "Revoke ci-console" }).click();
    await poll(() => row.locator("[data-state]").textContent()).toBe("revoked");
    expect(await page.locator(".flash").textContent()).toBe("Token ci-console revoked.");
    expect(await api("GET", "/jobs", { token: secret })).toMatchObject({ status: 401, body: { message: "the personal access token has been revoked" } });
  });

  it("starts a preheat and watches the job until the seed peer has the file", async () => {
    const size = 5 * MiB + 17;
    const url = fleet.origin.publish("/console-preheat.bin", { seed: 5, size });
    await page.getByRole("link", { name: "Jobs", exact: true }).click();
    await page.getByLabel("URLs").fill("ftp://example.invalid/file");
    await page.getByRole("button", { name: "Start preheat" }).click();
    await poll(() => page.locator("#preheat-urls-error").textContent()).toBe("line 1: not an http(s) URL");

    await page.getByLabel("URLs").fill(url);
    await page.getByLabel("Tag").fill("console");
    await page.getByLabel("Scheduler cluster").selectOption({ label: "cluster-1" });
    await page.getByRole("button", { name: "Start preheat" }).click();
    await page.getByRole("heading", { name: /^Job #\d+$/ }).waitFor();
    const id = Number(/#\/jobs\/(\d+)$/.exec(page.url())?.[1]);

    const state = page.locator(".job-state [data-state]");
    await state.waitFor();
    expect(["PENDING", "RUNNING", "SUCCESS"]).toContain(await state.textContent());
    await poll(() => state.textContent(), 60_000).toMatch(/^(SUCCESS|FAILURE)$/);
    const row = page.locator(`tr[data-url="${url}"]`);
    expect(await row.locator("td").allTextContents()).toEqual([url, "1", "SUCCESS", `${size} bytes`, "seed-1 SUCCESS", ""]);
    expect(await state.textContent()).toBe("SUCCESS");
    expect(await page.locator(".summary").textContent()).toBe("1 of 1");
    expect(fleet.origin.stats("/console-preheat.bin").bytesServed).toBeGreaterThanOrEqual(size);
    expect((await api("GET", `/jobs/${id}`)).body).toMatchObject({ state: "SUCCESS", args: { urls: [url], tag: "console", scope: "single_seed_peer" }, scheduler_cluster_ids: [1] });

    await page.getByRole("link", { name: "All jobs" }).click();
    await poll(() => page.locator(`tr[data-job-id="${id}"] [data-state]`).textContent()).toBe("SUCCESS");
  });

  it("follows liveness without a reload: a seed peer that starts shows active, and inactive once killed", async () => {
    await page.getByRole("link", { name: "Clusters", exact: true }).click();
    const card = clusterCard(page, "cluster-1");
    await poll(() => memberState(card, "seed-1").textContent()).toBe("active");
    // A reload would lose this marker.
    await page.evaluate("window.notReloaded = true");
    const seed2 = await fleet.cluster.startDaemon("seed-2", true);
    await poll(() => memberState(card, "seed-2").textContent()).toBe("active");
    await seed2.process.kill();
    await poll(() => memberState(card, "seed-2").textContent()).toBe("inactive");
    expect(await memberState(card, "seed-1").textContent()).toBe("active");
    expect(await page.evaluate("window.notReloaded")).toBe(true);
  });

  it("shows a guest read-only pages without write controls", async () => {
    expect((await api("POST", "/users", { body: { name: "viewer", password: GUEST_PASSWORD, role: "guest" } })).status).toBe(201);
    const guest = await newPage();
    try {
      const p = guest.page;
      await p.goto(`${fleet.manager.restUrl}/console/#/clusters`);
      await signIn(p, "viewer", GUEST_PASSWORD);
      const card = clusterCard(p, "cluster-1");
      await poll(() => memberState(card, "scheduler-1").textContent()).toBe("active");
      expect(await p.locator(".topbar .badge").textContent()).toBe("guest");
      expect(await p.getByRole("link", { name: "New cluster" }).count()).toBe(0);
      expect(await p.getByRole("link", { name: "Edit" }).count()).toBe(0);

      await card.getByRole("link", { name: "Details" }).click();
      await p.getByRole("heading", { name: "Cluster cluster-1" }).waitFor();
      expect(await p.getByLabel("Candidate parent limit").isDisabled()).toBe(true);
      expect(await p.getByRole("button", { name: "Save" }).count()).toBe(0);
      expect(await p.getByText("Read-only: viewer is a guest.").count()).toBe(1);

      await p.goto(`${fleet.manager.restUrl}/console/#/clusters/new`);
      await poll(() => p.locator("main [role=alert]").textContent()).toBe("You may not do this: viewer is a guest: guests may only read");

      await p.getByRole("link", { name: "Jobs", exact: true }).click();
      await p.getByRole("heading", { name: "Recent jobs" }).waitFor();
      expect(await p.getByRole("button", { name: "Start preheat" }).count()).toBe(0);
      expect(await p.locator("tr[data-job-id] [data-state]").first().textContent()).toBe("SUCCESS");
    } finally {
      await guest.context.close();
    }
  });

  it("shows the server's 403 to a user made a guest while signed in, and sends a disabled user back to sign-in", async () => {
    const created = await api("POST", "/users", { body: { name: "operator", password: GUEST_PASSWORD, role: "root" } });
    expect(created.status).toBe(201);
    const operator = await newPage();
    try {
      const p = operator.page;
      await p.goto(`${fleet.manager.restUrl}/console/#/clusters/new`);
      await signIn(p, "operator", GUEST_PASSWORD);
      await p.getByLabel("Name", { exact: true }).fill("operator-cluster");
      expect((await api("PATCH", `/users/${created.body.id}`, { body: { role: "guest" } })).status).toBe(200);
      await p.getByRole("button", { name: "Create cluster" }).click();
      await poll(() => p.locator("form [role=alert]").textContent()).toBe("operator is a guest: guests may only read");
      expect((await api("GET", "/scheduler-clusters?name=operator-cluster")).body).toEqual([]);

      // A reload asks the manager who is signed in: the page turns read-only.
      await p.reload();
      await poll(() => p.locator("main [role=alert]").textContent()).toBe("You may not do this: operator is a guest: guests may only read");
      await p.getByRole("link", { name: "Clusters", exact: true }).click();
      await clusterCard(p, "cluster-1").waitFor();
      expect(await p.getByRole("link", { name: "New cluster" }).count()).toBe(0);

      // Disabling a user ends their sessions: the next refresh finds out.
      expect((await api("PATCH", `/users/${created.body.id}`, { body: { state: "disabled" } })).status).toBe(200);
      await p.getByRole("button", { name: "Sign in" }).waitFor();
      expect(await p.locator(".flash").textContent()).toBe("Please sign in again: the session token is not valid (signed out or never issued)");
    } finally {
      await operator.context.close();
    }
  });

  it("signs out: the session ends in the manager and every page asks to sign in again", async () => {
    const session = JSON.parse(await page.evaluate<string>("sessionStorage.getItem('df-manager-session')")) as { token: string };
    expect(session.token).toMatch(/^dfs_/);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await page.locator(".flash").textContent()).toBe("Signed out.");
    expect(await page.locator(".topbar").isHidden()).toBe(true);
    expect((await api("GET", "/users/me", { token: session.token })).status).toBe(401);
    await page.goto(`${fleet.manager.restUrl}/console/#/jobs`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await page.getByRole("heading", { name: "Jobs" }).count()).toBe(0);
    await context.close();
  });
});
