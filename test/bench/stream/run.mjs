// Memory of `dfget -O -` into a slow reader (issue 15): dfget's and the daemon's peak
// RSS (VmRSS from /proc) while a 64 MiB file streams into a reader taking 8 MB/s, once
// while the daemon downloads it (cold) and once from its cache (warm), against the
// targets: dfget ≤ 80 MB, the daemon ≤ +16 MiB per stream (what a cold stream adds over a
// cold download to a file is the stream's; the warm run is the stream alone). --short: 32 MiB.
// Figures only: a missed target prints MISS, it does not fail.
import { spawn, execFileSync } from "node:child_process";
import { closeSync, constants, openSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster, BIN } from "@df/example-local-cluster/cluster";
import { startOriginServer } from "@df/compliance-tests";

const short = process.argv.includes("--short");
const MiB = 2 ** 20;
const size = (short ? 32 : 64) * MiB;
const rate = 8e6;
const readerScript = fileURLToPath(new URL("./slow-reader.cjs", import.meta.url));

function rss(pid) {
  try {
    const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** dfget … -O - | slow reader, through a FIFO; peaks of both pids sampled every 50 ms. */
async function stream(dir, url, socket, daemonPid) {
  const fifo = join(dir, `pipe-${Date.now()}`);
  execFileSync("mkfifo", [fifo]);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY);
  const reader = spawn(process.execPath, [readerScript, String(rate)], { stdio: [readFd, "pipe", "inherit"] });
  const dfget = spawn(process.execPath, [BIN.dfget, url, "-O", "-", "--endpoint", socket, "--no-progress"], { stdio: ["ignore", writeFd, "inherit"] });
  closeSync(readFd);
  closeSync(writeFd);
  const atRest = rss(daemonPid);
  const peaks = { dfget: 0, daemon: 0 };
  const timer = setInterval(() => {
    peaks.dfget = Math.max(peaks.dfget, rss(dfget.pid) ?? 0);
    peaks.daemon = Math.max(peaks.daemon, rss(daemonPid) ?? 0);
  }, 50);
  let out = "";
  reader.stdout.on("data", (chunk) => (out += chunk));
  const started = performance.now();
  const [code] = await Promise.all([new Promise((r) => dfget.on("close", r)), new Promise((r) => reader.on("close", r))]);
  clearInterval(timer);
  return { code, atRest, peaks, seconds: (performance.now() - started) / 1000, got: JSON.parse(out || "{}") };
}

/** dfget … -O <file>: the daemon's peak while it downloads with no stream, for comparison. */
async function toFile(dir, url, socket, daemonPid) {
  const atRest = rss(daemonPid);
  const dfget = spawn(process.execPath, [BIN.dfget, url, "-O", join(dir, `file-${Date.now()}`), "--endpoint", socket, "--no-progress"], { stdio: "inherit" });
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rss(daemonPid) ?? 0)), 50);
  const code = await new Promise((r) => dfget.on("close", r));
  clearInterval(timer);
  return { code, atRest, peak };
}

const dir = await mkdtemp(join(tmpdir(), "df-bench-stream-"));
const origin = await startOriginServer();
const cluster = await startCluster({ dir: join(dir, "cluster"), peers: 1, seed: false });
try {
  const url = origin.publish("/big.bin", { seed: 15, size });
  const peer = cluster.peers[0];
  const pid = peer.process.child.pid;
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(`dfget -O - of ${size / MiB} MiB into a reader of ${rate / 1e6} MB/s`);
  const plain = await toFile(dir, origin.publish("/plain.bin", { seed: 16, size }), peer.socket, pid);
  console.log(`  baseline, cold download to a file (no stream): exit ${plain.code}; daemon ${mb(plain.atRest)} → ${mb(plain.peak)}, +${((plain.peak - plain.atRest) / MiB).toFixed(1)} MiB`);
  for (const kind of ["cold (daemon downloading)", "warm (from the daemon's cache)", "direct (no daemon answers)"]) {
    const run = await stream(dir, url, kind.startsWith("direct") ? join(dir, "nobody.sock") : peer.socket, pid);
    const growth = run.peaks.daemon - run.atRest;
    const ok = run.code === 0 && run.got.bytes === size;
    console.log(
      `  ${kind}: ${ok ? "ok" : `FAILED (exit ${run.code}, ${run.got.bytes} bytes)`} in ${run.seconds.toFixed(1)} s; ` +
        `dfget peak ${mb(run.peaks.dfget)} ${run.peaks.dfget <= 80e6 ? "(≤ 80 MB)" : "MISS (> 80 MB)"}; ` +
        `daemon ${mb(run.atRest)} → ${mb(run.peaks.daemon)}, +${(growth / MiB).toFixed(1)} MiB ${growth <= 16 * MiB ? "(≤ +16 MiB)" : "MISS (> +16 MiB)"}`,
    );
  }
} finally {
  await cluster.stop();
  await origin.close();
  await rm(dir, { recursive: true, force: true });
}
