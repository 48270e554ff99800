import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOriginServer, type OriginServer } from "@df/compliance-tests";
import { dfget, startCluster, type Cluster, type ClusterDaemon } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MiB = 2 ** 20;
/** Every member's keepalive interval and the manager's; daemons ask for schedulers as often. */
const INTERVAL_MS = 1000;
const env = {
  DF_MANAGER_KEEPALIVE__INTERVAL: `${INTERVAL_MS}ms`,
  DF_SCHEDULER_MANAGER__KEEP_ALIVE_INTERVAL: `${INTERVAL_MS}ms`,
  DF_DAEMON_MANAGER__KEEP_ALIVE_INTERVAL: `${INTERVAL_MS}ms`,
  DF_DAEMON_MANAGER__REFRESH_INTERVAL: `${INTERVAL_MS}ms`,
};

let origin: OriginServer;
let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-manager-"));
  origin = await startOriginServer();
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 1, schedulers: 2, manager: true, env });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

const sorted = (values: Iterable<string>) => [...values].sort();

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The JSON log records of one process with this message. */
async function logged(file: string, msg: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.includes(msg))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record["msg"] === msg);
}

/** Where a daemon's scheduler list comes from now and what it is, from its last "scheduler list in use" log line. */
async function ringOf(daemon: ClusterDaemon): Promise<string | undefined> {
  const last = (await logged(daemon.logFile, "scheduler list in use")).at(-1);
  return last && `${last["source"]} ${sorted(last["addresses"] as string[]).join(",")}`;
}

async function members(kind: "schedulers" | "seed-peers"): Promise<Array<{ hostname: string; ip: string; port: number; state: string }>> {
  const { status, body } = await cluster.manager!.api("GET", `/api/v1/${kind}`);
  expect(status).toBe(200);
  return body;
}

async function download(peer: ClusterDaemon, path: string, seed: number, size: number) {
  const url = origin.publish(path, { seed, size });
  const result = await dfget([url, "-O", join(dir, `${peer.name}-${seed}.out`), "--endpoint", peer.socket, "--no-progress"], { timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  return { result, served: origin.stats(path).bytesServed };
}

describe("schedulers and daemons wired to the manager", () => {
  it("both schedulers and the seed peer register and are active in the manager", async () => {
    const expected = sorted(cluster.schedulers.map((s, i) => `scheduler-${i + 1}@${s.address}`));
    await waitFor(
      async () => {
        const active = (await members("schedulers")).filter((s) => s.state === "active");
        return JSON.stringify(sorted(active.map((s) => `${s.hostname}@${s.ip}:${s.port}`))) === JSON.stringify(expected) || undefined;
      },
      10_000,
      "both schedulers active",
    );
    const seeds = await waitFor(async () => {
      const active = (await members("seed-peers")).filter((s) => s.state === "active");
      return active.length ? active : undefined;
    }, 10_000, "the seed peer active");
    expect(seeds.map((s) => `${s.hostname}@${s.ip}:${s.port}`)).toEqual([`seed-1@${cluster.seed!.upload}`]);
  });

  it("a peer gets both schedulers from the manager, and dfget works through them", async () => {
    const peer = cluster.peers[0]!;
    const both = sorted(cluster.schedulers.map((s) => s.address));
    await waitFor(async () => ((await ringOf(peer)) === `manager ${both.join(",")}` ? true : undefined), 10_000, "the peer's ring to be both schedulers");
    const size = 12 * MiB + 5;
    const { result, served } = await download(peer, "/first.bin", 1, size);
    expect(result.sources.origin ?? 0).toBe(0);
    expect(served).toBeGreaterThanOrEqual(size);
    expect(served).toBeLessThan(size * 1.2);
  });

  it("a PATCH of the cluster's candidate-parent limit reaches every scheduler without a restart", async () => {
    const limitOf = async (metricsUrl: string) => {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      return Number(/^df_scheduler_candidate_parent_limit (\d+)/m.exec(text)?.[1]);
    };
    for (const s of cluster.schedulers) expect(await limitOf(s.metricsUrl!)).toBe(3);
    const patchedAt = Date.now();
    const { status } = await cluster.manager!.api("PATCH", "/api/v1/scheduler-clusters/1", { config: { candidateParentLimit: 6 } });
    expect(status).toBe(200);
    await waitFor(
      async () => ((await Promise.all(cluster.schedulers.map((s) => limitOf(s.metricsUrl!)))).every((limit) => limit === 6) ? true : undefined),
      5000,
      "the new limit in force on both schedulers",
    );
    // Pushed on the keepalive stream: within about one interval, not the 1 min poll.
    expect(Date.now() - patchedAt).toBeLessThan(2 * INTERVAL_MS + 1000);
    const [applied] = await logged(cluster.schedulers[0]!.logFile, "dynamic config applied");
    expect(applied).toMatchObject({ changed: { candidateParentLimit: { from: 3, to: 6 } }, candidateParentLimit: 6 });
  });

  it("a scheduler that dies is inactive within 2 × the keepalive interval, and downloads still work", async () => {
    const victim = cluster.schedulers[1]!;
    // Frozen first: its connection stays open but it falls silent, the case only the manager's timer catches.
    victim.process.child.kill("SIGSTOP");
    const silentAt = Date.now();
    const inactive = async () => ((await members("schedulers")).find((s) => s.hostname === "scheduler-2")?.state === "inactive" ? true : undefined);
    await waitFor(inactive, 4 * INTERVAL_MS, "scheduler-2 inactive");
    expect(Date.now() - silentAt).toBeLessThanOrEqual(2 * INTERVAL_MS);
    await victim.process.kill();
    const peer = cluster.peers[0]!;
    await waitFor(async () => ((await ringOf(peer)) === `manager ${cluster.schedulers[0]!.address}` ? true : undefined), 5000, "the peer to drop it");
    const size = 6 * MiB;
    const { served } = await download(peer, "/after-kill.bin", 2, size);
    expect(served).toBeLessThan(size * 1.2);
  });

  it("with the manager down, daemons keep its last list, and a daemon started meanwhile uses its static list", async () => {
    await cluster.manager!.process.stop();
    const peer = cluster.peers[0]!;
    await waitFor(async () => ((await logged(peer.logFile, "the manager is unreachable; keeping the last list it gave")).length ? true : undefined), 5000, "the peer to notice");
    expect(await ringOf(peer)).toBe(`last ${cluster.schedulers[0]!.address}`);
    await download(peer, "/manager-down.bin", 3, 4 * MiB);

    const late = await cluster.startDaemon("peer-late", false);
    // Log lines reach the file after the ready line (stderr is written asynchronously).
    const fallback = await waitFor(
      async () => (await logged(late.logFile, "the manager is unreachable; using the static scheduler.addresses"))[0],
      5000,
      "the late daemon to log its fallback",
    );
    expect(sorted(fallback["addresses"] as string[])).toEqual(sorted(cluster.schedulers.map((s) => s.address)));
    // Its static list still names the dead scheduler: tasks owned by it fall over to the live one.
    for (let i = 0; i < 3; i++) await download(late, `/late-${i}.bin`, 10 + i, 2 * MiB);
  });
});
