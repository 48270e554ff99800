import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BIN, dfcache, startCluster, startProcess, type Cluster, type ClusterDaemon, type ManagedProcess } from "@df/example-local-cluster/cluster";
import { cacheTaskId } from "@df/cli";
import { common, createRpcClient, HashRing, scheduler, unary } from "@df/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const OK = 0;
const NOT_FOUND = 3;
const MiB = 2 ** 20;

let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-dfcache-faults-"));
  // Three schedulers on a consistent-hash ring; four peers, none a seed.
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 4, seed: false, schedulers: 3 });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

const peer = (n: number): ClusterDaemon => cluster.peers[n]!;
const run = (on: ClusterDaemon, args: string[]) => dfcache([...args, "--endpoint", on.socket, "--no-progress"], { timeoutMs: 60_000 });

async function input(name: string, size: number): Promise<{ path: string; bytes: Buffer }> {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, bytes };
}

describe("dfcache faults", () => {
  it("spreads cids over three schedulers and keeps working through the others when one is killed", async () => {
    // Before: a few cids, each stat/export lands on its own scheduler.
    for (let i = 0; i < 3; i++) {
      const { path, bytes } = await input(`before-${i}.bin`, 100_000 + i);
      expect((await run(peer(0), ["import", "--cid", `before-${i}`, path])).code).toBe(OK);
      const output = join(dir, `before-${i}.out`);
      const exported = await run(peer(1), ["export", "--cid", `before-${i}`, "-O", output]);
      expect(exported.code, exported.stderr).toBe(OK);
      expect((await readFile(output)).equals(bytes)).toBe(true);
    }
    await cluster.schedulers[1]!.process.kill();
    // After: new imports, stats and exports all work, whichever scheduler a cid maps to
    // (with nine cids, the dead one owns some: their calls go to the next on the ring).
    for (let i = 0; i < 9; i++) {
      const { path, bytes } = await input(`after-${i}.bin`, 200_000 + i);
      const imported = await run(peer(0), ["import", "--cid", `after-${i}`, path]);
      expect(imported.code, imported.stderr).toBe(OK);
      const statted = await run(peer(2), ["stat", "--cid", `after-${i}`]);
      expect(statted.code, statted.stderr).toBe(OK);
      const output = join(dir, `after-${i}.out`);
      const exported = await run(peer(2), ["export", "--cid", `after-${i}`, "-O", output]);
      expect(exported.code, exported.stderr).toBe(OK);
      expect((await readFile(output)).equals(bytes)).toBe(true);
      expect((await run(peer(1), ["stat", "--cid", `never-${i}`])).code).toBe(NOT_FOUND);
    }
  });

  it("when the importing node goes away: export succeeds from another holder, and is not-found once nobody holds it", async () => {
    const shared = await input("shared.bin", 5 * MiB + 1);
    const lonely = await input("lonely.bin", 3 * MiB);
    const importer = peer(3);
    expect((await run(importer, ["import", "--cid", "shared", shared.path])).code).toBe(OK);
    expect((await run(importer, ["import", "--cid", "lonely", lonely.path])).code).toBe(OK);
    // Peer 1 becomes a second holder of "shared" by exporting it.
    expect((await run(peer(1), ["export", "--cid", "shared", "-O", join(dir, "shared-1.out")])).code).toBe(OK);

    await importer.process.stop();

    const fromOther = await run(peer(2), ["export", "--cid", "shared", "-O", join(dir, "shared-2.out")]);
    expect(fromOther.code, fromOther.stderr).toBe(OK);
    expect((await readFile(join(dir, "shared-2.out"))).equals(shared.bytes)).toBe(true);

    const started = performance.now();
    expect((await run(peer(2), ["stat", "--cid", "lonely"])).code).toBe(NOT_FOUND);
    const gone = await run(peer(2), ["export", "--cid", "lonely", "-O", join(dir, "lonely.out")]);
    expect(gone.code, gone.stderr).toBe(NOT_FOUND);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

/** Polls `check` every 100 ms until it holds; fails after `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("dfcache hand-back to the owner scheduler", () => {
  let ring: Cluster;
  let restarted: ManagedProcess | undefined;

  beforeAll(async () => {
    ring = await startCluster({ dir: join(dir, "ring"), peers: 2, seed: false, schedulers: 3 });
  }, 60_000);

  afterAll(async () => {
    await restarted?.stop();
    await ring?.stop();
  });

  it("a cid imported while its owner scheduler was down is handed back to the owner when it returns", async () => {
    const [a, b] = ring.peers as [ClusterDaemon, ClusterDaemon];
    const on = (daemon: ClusterDaemon, args: string[]) => dfcache([...args, "--endpoint", daemon.socket, "--no-progress"], { timeoutMs: 60_000 });
    const cid = "handed-back";
    const taskId = cacheTaskId(cid);
    // Every daemon routes by the same ring of the scheduler addresses.
    const [ownerAddress, fallbackAddress] = new HashRing(ring.schedulers.map((s) => s.address)).getN(taskId, 2) as [string, string];
    const owner = ring.schedulers.find((s) => s.address === ownerAddress)!;
    const stats = (address: string) => {
      const client = createRpcClient(scheduler.SchedulerClient, address, { defaultDeadlineMs: 2000 });
      return unary(client, "statTask", scheduler.StatTaskRequest.create({ hostId: "e2e", taskId })).then(
        (answer) => answer.task,
        () => undefined,
      ).finally(() => client.close());
    };
    const held = (task: common.Task | undefined) => task?.state === common.TaskState.SUCCEEDED && task.hasAvailablePeer;

    await owner.process.kill();
    const { path, bytes } = await input("handed-back.bin", 3 * MiB + 17);
    const imported = await on(a, ["import", "--cid", cid, path]);
    expect(imported.code, imported.stderr).toBe(OK);
    expect(held(await stats(fallbackAddress))).toBe(true);

    // The owner comes back at the same address, knowing nothing.
    const [host, port] = ownerAddress.split(":") as [string, string];
    restarted = await startProcess(
      "scheduler-restarted",
      BIN.scheduler,
      ["--config", fileURLToPath(new URL("../../examples/local-cluster/scheduler.yaml", import.meta.url)), "--listen", `${host}:${port}`, "--metrics-listen", ""],
      { ready: /df-scheduler listening on (\S+)/, logFile: join(dir, "scheduler-restarted.log") },
    );
    expect(restarted.match[1]).toBe(ownerAddress);
    // A reconnects within its backoff (at most 5 s) and announces the task to the owner.
    await until("the owner scheduler to learn the task from A", 30_000, async () => held(await stats(ownerAddress)));
    // It stays on the fallback too.
    expect(held(await stats(fallbackAddress))).toBe(true);

    // A peer started now routes to the owner first: it finds the cid, and A is the only holder.
    const c = await ring.startDaemon("peer-late", false);
    const statted = await on(c, ["stat", "--cid", cid, "--json"]);
    expect(statted.code, statted.stderr).toBe(OK);
    expect(JSON.parse(statted.stdout)).toMatchObject({ found: true, contentLength: bytes.length, peerCount: 1 });
    for (const [name, peer] of [["late", c], ["b", b]] as const) {
      const output = join(dir, `handed-back-${name}.out`);
      const exported = await on(peer, ["export", "--cid", cid, "-O", output]);
      expect(exported.code, exported.stderr).toBe(OK);
      expect((await readFile(output)).equals(bytes)).toBe(true);
    }
  }, 120_000);
});
