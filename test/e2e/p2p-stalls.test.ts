import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { taskId } from "@df/piece";
import { dfget, startCluster, type Cluster } from "@df/example-local-cluster/cluster";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// Issue 15, item 3: a parent that stops (SIGSTOP, alive but silent) is noticed in
// seconds, not after the 30 s stall timeout. Peers and the origin send at the same
// rate, so going to the origin instead of the stopped parent costs no speed and the
// figure measured is the time lost noticing the stop.
const MiB = 2 ** 20;
const SIZE = 40 * MiB + 321;
const RATE = 8 * MiB;
const STOP_MS = 20_000;
const env = { DF_DAEMON_UPLOAD__RATE_LIMIT: "8Mi" };

let origin: OriginServer;
let cluster: Cluster;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-stalls-"));
  origin = await startOriginServer({ uploadBytesPerSecond: RATE });
}, 60_000);

/** No seed: the first peer fetches from the origin and is then the second peer's only parent. */
async function start(extraEnv: NodeJS.ProcessEnv = {}): Promise<Cluster> {
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 2, seed: false, env: { ...env, ...extraEnv } });
  return cluster;
}

afterEach(async () => {
  await cluster?.stop();
  await origin?.close();
  if (!process.env.DF_KEEP) await rm(dir, { recursive: true, force: true });
});

function publish(path: string, seed: number): { url: string; digest: string } {
  origin.publish(path, { seed, size: SIZE });
  const hash = createHash("sha256");
  for (let offset = 0; offset < SIZE; offset += 8 * MiB) hash.update(generateContent(seed, offset, Math.min(8 * MiB, SIZE - offset)));
  return { url: origin.url(path), digest: hash.digest("hex") };
}

async function waitForPieces(peerName: string, url: string, count: number): Promise<void> {
  const id = taskId({ url });
  const log = join(dir, "cluster", peerName, "storage", "metadata", "tasks", id.slice(0, 3), `${id}.pieces`);
  // Each piece record in the log is 24 bytes or more.
  for (let waited = 0; ((await stat(log).catch(() => undefined))?.size ?? 0) < 24 * count; waited += 50) {
    if (waited > 30_000) throw new Error(`${peerName} stored ${count} piece(s) within 30 s`);
    await sleep(50);
  }
}

const fileDigest = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");

describe("P2P stalls", () => {
  it("a parent stopped for 20 s costs seconds, not the stop: its pieces go to the origin", async () => {
    const [parent, child] = (await start()).peers;
    const calm = publish("/calm.bin", 21);
    const stopped = publish("/stopped.bin", 22);
    for (const file of [calm, stopped]) {
      const got = await dfget([file.url, "-O", join(dir, `parent-${file.digest.slice(0, 6)}.bin`), "--endpoint", parent!.socket, "--no-progress"]);
      expect(got.code, got.stderr).toBe(0);
    }

    let started = performance.now();
    const baseline = await dfget([calm.url, "-O", join(dir, "calm.bin"), "--endpoint", child!.socket, "--no-progress"]);
    const baselineMs = performance.now() - started;
    expect(baseline.code, baseline.stderr).toBe(0);
    expect(baseline.sources.origin ?? 0, "the no-fault run came from the parent").toBe(0);
    expect(await fileDigest(join(dir, "calm.bin"))).toBe(calm.digest);

    started = performance.now();
    const pending = dfget([stopped.url, "-O", join(dir, "stopped.bin"), "--endpoint", child!.socket, "--no-progress"]);
    await waitForPieces(child!.name, stopped.url, 1);
    const pid = parent!.process.child.pid!;
    process.kill(pid, "SIGSTOP");
    const resume = setTimeout(() => process.kill(pid, "SIGCONT"), STOP_MS);
    try {
      const result = await pending;
      const faultMs = performance.now() - started;
      expect(result.code, result.stderr).toBe(0);
      expect(await fileDigest(join(dir, "stopped.bin"))).toBe(stopped.digest);
      expect(result.sources.origin ?? 0, "the stopped parent's share came from the origin").toBeGreaterThan(0);
      console.log(`parent stopped for ${STOP_MS / 1000} s: ${(faultMs / 1000).toFixed(1)} s against ${(baselineMs / 1000).toFixed(1)} s without a fault (+${((faultMs - baselineMs) / 1000).toFixed(1)} s)`);
      // The target is +3 s (the benchmark prints it); the test only fails when the stop,
      // not seconds of noticing it, is what the download waited out.
      expect(faultMs - baselineMs).toBeLessThan(STOP_MS / 2);
    } finally {
      clearTimeout(resume);
      process.kill(pid, "SIGCONT");
    }
  }, 120_000);

  it("an origin that stalls on every request fails within download.sourceStallTimeout and says the origin sent nothing", async () => {
    const [peer] = (await start({ DF_DAEMON_DOWNLOAD__SOURCE_STALL_TIMEOUT: "6s" })).peers;
    origin.publish("/stuck.bin", { seed: 23, size: SIZE }, { stallAt: 1 * MiB });
    const started = performance.now();
    const result = await dfget([origin.url("/stuck.bin"), "-O", join(dir, "stuck.bin"), "--endpoint", peer!.socket, "--no-progress"]);
    const seconds = (performance.now() - started) / 1000;
    console.log(`origin stalled on every request: dfget ended after ${seconds.toFixed(1)} s with: ${result.stderr.trim()}`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/the origin 127\.0\.0\.1:\d+ sent nothing for 6(\.\d)? s/);
    // 6 s of silence, plus the scheduler's rounds before it sends the peer to the source.
    expect(seconds).toBeLessThan(15);
    // Each silent request was asked again on a new connection meanwhile.
    expect(origin.stats("/stuck.bin").gets).toBeGreaterThan(4);
  }, 60_000);

  it("an origin request that stalls once is asked again on a new connection and the download completes", async () => {
    const [peer] = (await start({ DF_DAEMON_DOWNLOAD__SOURCE_STALL_TIMEOUT: "6s" })).peers;
    const file = publish("/once.bin", 24);
    origin.publish("/once.bin", { seed: 24, size: SIZE }, { stallAt: 1 * MiB, stallTimes: 1 });
    const started = performance.now();
    const result = await dfget([file.url, "-O", join(dir, "once.bin"), "--endpoint", peer!.socket, "--no-progress"]);
    const seconds = (performance.now() - started) / 1000;
    console.log(`origin stalled once: ${seconds.toFixed(1)} s for ${(SIZE / MiB).toFixed(0)} MiB at ${RATE / MiB} MiB/s`);
    expect(result.code, result.stderr).toBe(0);
    expect(await fileDigest(join(dir, "once.bin"))).toBe(file.digest);
    // 5 s at the origin's rate, 2 s before the stuck request is cut, the scheduler's rounds.
    expect(seconds).toBeLessThan(14);
  }, 60_000);
});
