// Benchmark of @df/storage against plain node:fs doing the same I/O.
//
//   pnpm bench:storage                       # 1 GiB task, 10 000 small tasks, 3 runs
//   pnpm bench:storage -- --short            # 128 MiB, 1000 tasks, 1 run (CI)
//   node --expose-gc test/bench/storage/run.mjs --size 512 --tasks 5000 --runs 5
//   … --dir /dev/shm                          # data on tmpfs: the store's own cost, no disk
//   … --inflight 8                            # pieces written at once (default 4)
//
// It imports the built package (packages/storage/dist), as a daemon would. Numbers are
// medians over the runs. Reads come from the page cache in both the store and the
// baseline (the machine has the RAM); that is what an upload of a just-downloaded task
// sees. A missed target is reported as MISS, not as a failure: the exit code is
// non-zero only when something breaks.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { clearInterval, setInterval } from "node:timers";
import { parseArgs } from "node:util";
import { crc32Digest, pieceLengthFor } from "@df/piece";
import { Storage } from "@df/storage";

const MiB = 1024 * 1024;

// `pnpm bench:storage -- --short` hands the script a literal "--" first.
const argv = process.argv.slice(2);
const { values: flags } = parseArgs({
  args: argv[0] === "--" ? argv.slice(1) : argv,
  options: {
    size: { type: "string" },
    tasks: { type: "string" },
    runs: { type: "string" },
    short: { type: "boolean", default: false },
    inflight: { type: "string" },
    dir: { type: "string" },
  },
});
const sizeMiB = Number(flags.size ?? (flags.short ? 128 : 1024));
const taskCount = Number(flags.tasks ?? (flags.short ? 1000 : 10_000));
const runs = Number(flags.runs ?? (flags.short ? 1 : 3));
// Pieces in flight per task while writing (the daemon's concurrent_piece_count is 8).
const inflight = Number(flags.inflight ?? 4);
for (const [name, value] of Object.entries({ size: sizeMiB, tasks: taskCount, runs, inflight })) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
}

const contentLength = sizeMiB * MiB;
const pieceLength = pieceLengthFor(contentLength);
const pieceCount = Math.ceil(contentLength / pieceLength);

/** Peak RSS between start() and stop(), sampled every 5 ms. */
class RssSampler {
  #peak = 0;
  #timer;
  start() {
    globalThis.gc?.();
    this.#peak = process.memoryUsage.rss();
    this.#timer = setInterval(() => (this.#peak = Math.max(this.#peak, process.memoryUsage.rss())), 5);
    return this;
  }
  stop() {
    clearInterval(this.#timer);
    return Math.max(this.#peak, process.memoryUsage.rss());
  }
}

/**
 * A few piece-sized buffers of pseudo-random bytes, reused round-robin: the source is
 * "in memory" without ever holding the task, and each buffer's digest (what a parent
 * would send) is computed once.
 */
function makeSources(count) {
  return Array.from({ length: count }, (_, i) => {
    const data = Buffer.allocUnsafe(pieceLength);
    let state = 0x9e3779b9 ^ (i + 1);
    for (let offset = 0; offset < data.length; offset += 4) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      data.writeInt32LE(state | 0, offset);
    }
    return { data, digest: crc32Digest(data), lastDigest: crc32Digest(data.subarray(0, lengthOf(pieceCount - 1))) };
  });
}

function lengthOf(n) {
  return Math.min(pieceLength, contentLength - n * pieceLength);
}

function pieceData(sources, n) {
  const source = sources[n % sources.length];
  const length = lengthOf(n);
  return {
    data: length === pieceLength ? source.data : source.data.subarray(0, length),
    digest: length === pieceLength ? source.digest : source.lastDigest,
  };
}

async function writeStore(root, sources) {
  const storage = await Storage.open({ dir: path.join(root, "store"), gc: { intervalMs: 0 } });
  const taskId = createHash("sha256").update(`bench-${root}`).digest("hex");
  const rss = new RssSampler().start();
  const started = performance.now();
  const task = await storage.createTask({ taskId, contentLength, pieceLength });
  const lease = task.acquire();
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < pieceCount) {
        const n = next++;
        const { data, digest } = pieceData(sources, n);
        await task.writePiece(n, data, { digest });
      }
    }),
  );
  const wrote = performance.now();
  await task.markComplete();
  const completed = performance.now();
  lease.release();
  return { storage, task, seconds: (wrote - started) / 1000, syncSeconds: (completed - wrote) / 1000, rss: rss.stop() };
}

async function readStore(task) {
  const rss = new RssSampler().start();
  const started = performance.now();
  let total = 0;
  for await (const chunk of task.createReadStream()) total += chunk.length;
  const seconds = (performance.now() - started) / 1000;
  if (total !== contentLength) throw new Error(`read ${total} bytes from the store, expected ${contentLength}`);
  return { seconds, rss: rss.stop() };
}

async function writeBaseline(file, sources) {
  const started = performance.now();
  const handle = await open(file, "w");
  for (let n = 0; n < pieceCount; n++) {
    const { data } = pieceData(sources, n);
    await handle.write(data, 0, data.length, n * pieceLength);
  }
  const seconds = (performance.now() - started) / 1000;
  // Untimed, like the store's markComplete: flushing here keeps this run's dirty pages
  // from throttling the next write phase.
  await handle.datasync();
  await handle.close();
  return seconds;
}

async function readBaseline(file) {
  const started = performance.now();
  let total = 0;
  for await (const chunk of createReadStream(file)) total += chunk.length;
  if (total !== contentLength) throw new Error(`read ${total} bytes from the baseline, expected ${contentLength}`);
  return (performance.now() - started) / 1000;
}

/** Fills a store with `count` complete tasks of one 4 KiB piece, in parallel. */
async function fillSmallTasks(dir, count) {
  const storage = await Storage.open({ dir, gc: { intervalMs: 0 } });
  const data = Buffer.alloc(4096, 7);
  const digest = crc32Digest(data);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        const taskId = createHash("sha256").update(`small-${i}`).digest("hex");
        const task = await storage.createTask({ taskId, contentLength: data.length, pieceLength: data.length, url: `https://example.com/${i}` });
        await task.writePiece(0, data, { digest });
        await task.markComplete();
      }
    }),
  );
  await storage.close();
}

async function reload(dir, expected) {
  const started = performance.now();
  const storage = await Storage.open({ dir, gc: { intervalMs: 0 } });
  const seconds = (performance.now() - started) / 1000;
  const loaded = storage.listTasks().length;
  await storage.close();
  if (loaded !== expected) throw new Error(`reloaded ${loaded} tasks, expected ${expected}`);
  return seconds;
}

// MB/s here is MiB/s: both sides are measured the same way.
const mbps = (seconds) => Math.round(sizeMiB / seconds);

/** Median over runs of baseline time / store time, i.e. store throughput / baseline's. */
const pairedRatio = (baseline, ours) => median(baseline.map((seconds, i) => seconds / ours[i])).toFixed(2);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  const root = await mkdtemp(path.join(flags.dir ?? os.tmpdir(), "df-bench-storage-"));
  const cleanup = () => rm(root, { recursive: true, force: true });
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  console.log(
    `@df/storage benchmark: ${sizeMiB} MiB task (${pieceCount} pieces of ${pieceLength / MiB} MiB, ${inflight} in flight), ` +
      `${taskCount} small tasks, ${runs} run(s), node ${process.version}, ${os.cpus().length} CPUs, data in ${root}`,
  );
  try {
    const sources = makeSources(4);
    // Each write phase reuses the page-cache pages the previous phase freed: the warm-up
    // frees a file's worth first, and every phase deletes its file when done. Writing
    // into memory the VM has never touched costs host page faults (on this machine it
    // drops any writer, `dd` included, to ~350 MB/s), a cost neither contender owns.
    const warmUp = path.join(root, "warm-up.bin");
    await writeBaseline(warmUp, sources);
    await rm(warmUp);
    const samples = { write: [], sync: [], read: [], baseWrite: [], baseRead: [], writeRss: [], readRss: [], reload: [] };
    for (let run = 0; run < runs; run++) {
      // The store goes first, so the baseline's garbage does not count in its RSS.
      const runDir = path.join(root, `run-${run}`);
      const written = await writeStore(runDir, sources);
      samples.write.push(written.seconds);
      samples.sync.push(written.syncSeconds);
      samples.writeRss.push(written.rss);
      const read = await readStore(written.task);
      samples.read.push(read.seconds);
      samples.readRss.push(read.rss);
      await written.storage.close();
      await rm(runDir, { recursive: true, force: true });

      const baseFile = path.join(root, `baseline-${run}.bin`);
      samples.baseWrite.push(await writeBaseline(baseFile, sources));
      samples.baseRead.push(await readBaseline(baseFile));
      await rm(baseFile);
      const at = samples.write.length - 1;
      console.log(
        `  run ${run + 1}/${runs}: write ${mbps(samples.write[at])} MB/s (baseline ${mbps(samples.baseWrite[at])}), ` +
          `read ${mbps(samples.read[at])} MB/s (baseline ${mbps(samples.baseRead[at])})`,
      );
    }

    const smallDir = path.join(root, "small");
    const filling = performance.now();
    await fillSmallTasks(smallDir, taskCount);
    console.log(`  stored ${taskCount} small tasks in ${((performance.now() - filling) / 1000).toFixed(1)} s`);
    for (let run = 0; run < runs; run++) samples.reload.push(await reload(smallDir, taskCount));

    const rows = [
      {
        metric: `write+digest ${sizeMiB} MiB`,
        ours: `${mbps(median(samples.write))} MB/s`,
        baseline: `${mbps(median(samples.baseWrite))} MB/s`,
        ratio: pairedRatio(samples.baseWrite, samples.write),
        target: "≥ 600 MB/s",
        pass: mbps(median(samples.write)) >= 600,
      },
      {
        metric: `  then fdatasync (markComplete)`,
        ours: `${median(samples.sync).toFixed(2)} s`,
        baseline: "-",
        ratio: "-",
        target: "(info)",
      },
      {
        metric: `read ${sizeMiB} MiB as a stream`,
        ours: `${mbps(median(samples.read))} MB/s`,
        baseline: `${mbps(median(samples.baseRead))} MB/s`,
        ratio: pairedRatio(samples.baseRead, samples.read),
        target: "≥ 1000 MB/s",
        pass: mbps(median(samples.read)) >= 1000,
      },
      {
        metric: `reload ${taskCount} tasks`,
        ours: `${median(samples.reload).toFixed(2)} s`,
        baseline: "-",
        ratio: "-",
        target: `≤ ${((2 * taskCount) / 10_000).toFixed(1)} s`,
        pass: median(samples.reload) <= (2 * taskCount) / 10_000,
      },
      {
        metric: "peak RSS while writing",
        ours: `${(Math.max(...samples.writeRss) / MiB).toFixed(0)} MB`,
        baseline: "-",
        ratio: "-",
        target: "< 150 MB",
        pass: Math.max(...samples.writeRss) < 150 * MiB,
      },
      {
        metric: "peak RSS while reading",
        ours: `${(Math.max(...samples.readRss) / MiB).toFixed(0)} MB`,
        baseline: "-",
        ratio: "-",
        target: "< 150 MB",
        pass: Math.max(...samples.readRss) < 150 * MiB,
      },
    ];
    printTable(rows);
    console.log("ratio = median over runs of ours / baseline throughput (baseline: one FileHandle writing the same buffers in order; fs.createReadStream with defaults)");
  } finally {
    await cleanup();
  }
}

function printTable(rows) {
  const header = { metric: "metric", ours: "@df/storage", baseline: "node:fs", ratio: "ratio", target: "target", result: "result" };
  const lines = rows.map((row) => ({ ...row, result: row.pass === undefined ? "" : row.pass ? "PASS" : "MISS" }));
  const keys = Object.keys(header);
  const widths = keys.map((key) => Math.max(...[header, ...lines].map((line) => String(line[key]).length)));
  const format = (line) => keys.map((key, i) => String(line[key]).padEnd(widths[i])).join("  ").trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const line of lines) console.log(format(line));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
