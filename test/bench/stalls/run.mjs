// Stall benchmark of issue 15 (item 3): what a stopped parent costs a download. Real
// processes on loopback: a scheduler, two peers (no seed), an origin paced to the same
// rate as the peers' uploads (so that going to the origin costs no speed and the figure
// is the time lost noticing the stop). Each round downloads one file from the first peer
// with no fault (the baseline) and another of the same size during which that only
// parent is stopped (SIGSTOP) for 20 s after the first piece landed; the cost is the
// difference. Target: ≤ 3 s. `--short` runs one round (CI), the default five.
import { createHash } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startOriginServer } from "@df/compliance-tests";
import { taskId } from "@df/piece";
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

async function waitForFirstPiece(peerName, url) {
  const id = taskId({ url });
  const log = join(dir, "cluster", peerName, "storage", "metadata", "tasks", id.slice(0, 3), `${id}.pieces`);
  for (let waited = 0; ((await stat(log).catch(() => undefined))?.size ?? 0) < 24; waited += 50) {
    if (waited > 30_000) throw new Error(`${peerName} stored no piece within 30 s`);
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
    const pending = timed(stopped, `stopped-${round}.bin`, child);
    await waitForFirstPiece(child.name, stopped);
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
