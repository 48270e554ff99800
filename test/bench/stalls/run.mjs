// Stall benchmark of issue 15 (item 3): what a stopped parent costs a download. Real
// processes on loopback: a scheduler, two peers (no seed), an origin paced to the same
// rate as the peers' uploads (so that going to the origin costs no speed and the figure
// is the time lost noticing the stop). Each round downloads one file from the first peer
// with no fault (the baseline) and another of the same size during which that only
// parent is stopped (SIGSTOP) for 20 s after the first piece landed; the cost is the
// difference. Target: ≤ 3 s. `--short` runs one round (CI), the default five.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { startOriginServer } from "@df/compliance-tests";
import { dfget, startCluster } from "@df/example-local-cluster/cluster";

const args = process.argv.slice(2).filter((a) => a !== "--");
const short = args.includes("--short");
const rounds = short ? 1 : 5;
const MiB = 2 ** 20;
const SIZE = 40 * MiB + 321;
const RATE = 8 * MiB;
const STOP_MS = 20_000;
const TARGET_S = 3;

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const dir = await mkdtemp(join(tmpdir(), "df-bench-stalls-"));
const origin = await startOriginServer({ uploadBytesPerSecond: RATE });
const cluster = await startCluster({ dir: join(dir, "cluster"), peers: 2, seed: false, env: { DF_DAEMON_UPLOAD__RATE_LIMIT: "8Mi" } });

/** The piece logs (one per task) a peer holds now. */
async function pieceLogs(peerName) {
  const tasks = join(dir, "cluster", peerName, "storage", "metadata", "tasks");
  const logs = new Map();
  for (const shard of await readdir(tasks).catch(() => [])) {
    for (const name of await readdir(join(tasks, shard)).catch(() => [])) {
      if (name.endsWith(".pieces")) logs.set(join(tasks, shard, name), (await stat(join(tasks, shard, name)).catch(() => undefined))?.size ?? 0);
    }
  }
  return logs;
}

/**
 * Waits until a task the peer did not hold in `before` has a piece stored (its piece log
 * has a record of 24 bytes or more): the task ID is the origin's version's, not the URL's.
 */
async function waitForFirstPiece(peerName, before) {
  for (let waited = 0; ; waited += 50) {
    for (const [log, size] of await pieceLogs(peerName)) if (!before.has(log) && size >= 24) return;
    if (waited > 30_000) throw new Error(`${peerName} stored no piece of a new task within 30 s`);
    await sleep(50);
  }
}

async function timed(url, out, peer) {
  const started = performance.now();
  const result = await dfget([url, "-O", join(dir, out), "--endpoint", peer.socket, "--no-progress"]);
  if (result.code !== 0) throw new Error(`dfget ${url} failed: ${result.stderr}`);
  return { seconds: (performance.now() - started) / 1000, result };
}

const rows = [];
try {
  const [parent, child] = cluster.peers;
  for (let round = 0; round < rounds; round++) {
    const calm = origin.publish(`/calm-${round}.bin`, { seed: 100 + round, size: SIZE });
    const stopped = origin.publish(`/stopped-${round}.bin`, { seed: 200 + round, size: SIZE });
    for (const url of [calm, stopped]) await timed(url, `parent-${createHash("sha1").update(url).digest("hex")}.bin`, parent);

    const baseline = await timed(calm, `calm-${round}.bin`, child);
    const held = await pieceLogs(child.name);
    const pending = timed(stopped, `stopped-${round}.bin`, child);
    await waitForFirstPiece(child.name, held);
    const pid = parent.process.child.pid;
    process.kill(pid, "SIGSTOP");
    const resume = setTimeout(() => process.kill(pid, "SIGCONT"), STOP_MS);
    let fault;
    try {
      fault = await pending;
    } finally {
      clearTimeout(resume);
      process.kill(pid, "SIGCONT");
    }
    rows.push({ baseline: baseline.seconds, fault: fault.seconds, cost: fault.seconds - baseline.seconds, origin: fault.result.sources.origin ?? 0 });
    console.log(
      `round ${round + 1}: no fault ${baseline.seconds.toFixed(1)} s, parent stopped ${fault.seconds.toFixed(1)} s (+${(fault.seconds - baseline.seconds).toFixed(1)} s), ${fault.result.sources.origin ?? 0} MiB from the origin`,
    );
  }
} finally {
  await cluster.stop();
  await origin.close();
  await rm(dir, { recursive: true, force: true });
}

const cost = median(rows.map((row) => row.cost));
console.log("");
console.log(`| figure (${rounds} round${rounds > 1 ? "s" : ""}, median) | value | target |`);
console.log("|---|---|---|");
console.log(`| download of ${(SIZE / MiB).toFixed(0)} MiB at ${RATE / MiB} MiB/s, no fault | ${median(rows.map((r) => r.baseline)).toFixed(1)} s | — |`);
console.log(`| the same with its only parent stopped ${STOP_MS / 1000} s | ${median(rows.map((r) => r.fault)).toFixed(1)} s | — |`);
console.log(`| cost of the stop | +${cost.toFixed(1)} s | ≤ ${TARGET_S} s ${cost <= TARGET_S ? "ok" : "MISS"} |`);
