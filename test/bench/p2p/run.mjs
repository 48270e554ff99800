// P2P benchmarks of the issue "P2P download end to end", against a real cluster of
// processes on loopback. Prints each figure with its target and a baseline measured in
// the same run. `--short` is the quick mode CI runs; the full mode uses the sizes.
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startOriginServer } from "@df/compliance-tests";
import { dfget, startCluster } from "@df/example-local-cluster/cluster";

const args = process.argv.slice(2).filter((a) => a !== "--");
const short = args.includes("--short");
const only = args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const MiB = 2 ** 20;
const sizes = short
  ? { egress: 64 * MiB, distribution: 24 * MiB, throughput: 1024 * MiB, rss: 256 * MiB }
  : { egress: 256 * MiB, distribution: 256 * MiB, throughput: 1024 * MiB, rss: 2048 * MiB };
const run = promisify(execFile);
const rows = [];
const row = (metric, value, target, pass, baseline = "") => rows.push({ metric, value, baseline, target, result: pass ? "PASS" : "MISS" });
/** A figure with no target of its own, printed for context. */
const info = (metric, value, baseline = "") => rows.push({ metric, value, baseline, target: "(no target)", result: "—" });
const mb = (bytes, seconds) => bytes / 1e6 / seconds;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = await mkdtemp(join(tmpdir(), "df-bench-p2p-"));
const wants = (name) => !only || only.includes(name);

async function timedDfget(argv) {
  const started = performance.now();
  const result = await dfget(argv);
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0) throw new Error(`dfget failed (${result.code}): ${result.stderr}`);
  return { seconds, result };
}

async function withCluster(name, options, body) {
  const cluster = await startCluster({ dir: join(dir, name), logLevel: "warn", ...options });
  try {
    return await body(cluster);
  } finally {
    await cluster.stop();
  }
}

async function egress() {
  const origin = await startOriginServer();
  try {
    origin.publish("/egress.bin", { seed: 1, size: sizes.egress });
    const url = origin.url("/egress.bin");
    await withCluster("egress", { peers: 8 }, async (cluster) => {
      const started = performance.now();
      await Promise.all(cluster.peers.map((peer, i) => timedDfget([url, "-O", join(dir, `egress-${i}`), "--endpoint", peer.socket, "--no-progress"])));
      const seconds = (performance.now() - started) / 1000;
      const served = origin.stats("/egress.bin").bytesServed;
      const ratio = served / sizes.egress;
      row(`origin egress, 8 peers × ${sizes.egress / MiB} MiB at once`, `${ratio.toFixed(2)}× file (${seconds.toFixed(1)} s)`, "≤ 1.10×", ratio <= 1.1, "8.00× direct");
    });
  } finally {
    await origin.close();
  }
}

async function distribution() {
  const rate = 100e6 / 8; // 100 Mbit/s
  const origin = await startOriginServer({ uploadBytesPerSecond: rate });
  try {
    origin.publish("/dist.bin", { seed: 2, size: sizes.distribution });
    const url = origin.url("/dist.bin");
    const direct = await timedDfget([url, "-O", join(dir, "dist-direct"), "--endpoint", join(dir, "nobody.sock"), "--no-progress"]);
    await withCluster("distribution", { peers: 8 }, async (cluster) => {
      const started = performance.now();
      const times = await Promise.all(
        cluster.peers.map(async (peer, i) => {
          await timedDfget([url, "-O", join(dir, `dist-${i}`), "--endpoint", peer.socket, "--no-progress"]);
          return (performance.now() - started) / 1000;
        }),
      );
      const slowest = Math.max(...times);
      const ratio = slowest / direct.seconds;
      row(
        `8 peers done, origin at 100 Mbit/s, ${sizes.distribution / MiB} MiB`,
        `${slowest.toFixed(1)} s (${ratio.toFixed(2)}× one direct)`,
        "≤ 1.30× one direct",
        ratio <= 1.3,
        `one direct: ${direct.seconds.toFixed(1)} s`,
      );
    });
  } finally {
    await origin.close();
  }
}

async function curlOnce(url) {
  const started = performance.now();
  await run("curl", ["-s", "-o", join(dir, "curl.out"), url], { maxBuffer: 1024 });
  const seconds = (performance.now() - started) / 1000;
  await rm(join(dir, "curl.out"), { force: true });
  return seconds;
}

async function staticServer(path, size) {
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-length": size });
    createReadStream(path, { highWaterMark: 4 * MiB }).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/file`, close: () => server.close() };
}

// This VM pays heavily the first time memory is touched (page cache for a new file:
// ~380 MB/s, against ~5 GB/s into memory freed a moment ago). curl writes through the
// page cache, so its figure swings with what was freed before it (300–900 MB/s here);
// the daemon writes pieces with direct I/O and does not. The two take turns, each
// writing a new file, and each side reports its median. Short mode keeps the issue's
// 1 GiB: at 256 MiB dfget's ~90 ms of process start and scheduling weighed a quarter.
async function throughputAndRss() {
  const origin = await startOriginServer();
  try {
    const size = Math.max(sizes.throughput, sizes.rss);
    const rounds = 3;
    for (let i = 0; i < rounds; i++) origin.publish(`/big-${i}.bin`, { seed: 30 + i, size });
    await withCluster("throughput", { peers: 1 }, async (cluster) => {
      const ours = [];
      const theirs = [];
      let server;
      for (let i = 0; i < rounds; i++) {
        const url = origin.url(`/big-${i}.bin`);
        const seedOut = join(dir, `seed-copy-${i}`);
        await timedDfget([url, "-O", seedOut, "--endpoint", cluster.seed.socket, "--no-progress"]);
        server ??= await staticServer(seedOut, size);
        theirs.push(await curlOnce(server.url));
        const { seconds } = await timedDfget([url, "-O", join(dir, `child-copy-${i}`), "--endpoint", cluster.peers[0].socket, "--no-progress"]);
        ours.push(seconds);
        await rm(join(dir, `child-copy-${i}`), { force: true });
      }
      server.close();
      const oursMb = mb(size, median(ours));
      const theirsMb = mb(size, median(theirs));
      row(
        `one parent → one child, ${size / MiB} MiB (dfget end to end, median of ${rounds})`,
        `${oursMb.toFixed(0)} MB/s (${(oursMb / theirsMb).toFixed(2)}× curl)`,
        "≥ 500 MB/s and ≥ 0.80× curl",
        oursMb >= 500 && oursMb / theirsMb >= 0.8,
        `curl: ${theirsMb.toFixed(0)} MB/s`,
      );
      for (const daemon of [cluster.seed, cluster.peers[0]]) {
        const status = await readFile(`/proc/${daemon.process.child.pid}/status`, "utf8");
        const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
        row(`dfdaemon peak RSS (${daemon.name}), ${rounds} × ${size / MiB} MiB served/downloaded`, `${hwm.toFixed(0)} MB`, "≤ 200 MB", hwm <= 200);
      }
    });
  } finally {
    await origin.close();
  }
}

// The second hop: peer-1 takes the file from the seed (written with direct I/O, so not
// in its page cache), then the seed leaves and peer-2 can only take it from peer-1,
// whose byte server reads those pieces from disk.
async function secondHop() {
  const origin = await startOriginServer();
  try {
    const size = sizes.throughput;
    origin.publish("/hop.bin", { seed: 50, size });
    const url = origin.url("/hop.bin");
    await withCluster("hop", { peers: 2 }, async (cluster) => {
      await timedDfget([url, "-O", join(dir, "hop-seed"), "--endpoint", cluster.seed.socket, "--no-progress"]);
      const first = await timedDfget([url, "-O", join(dir, "hop-1"), "--endpoint", cluster.peers[0].socket, "--no-progress"]);
      await cluster.seed.process.stop();
      const second = await timedDfget([url, "-O", join(dir, "hop-2"), "--endpoint", cluster.peers[1].socket, "--no-progress"]);
      if (second.result.sources.origin || second.result.sources.seed) throw new Error(`the second hop did not come from peer-1 alone: ${second.result.stderr}`);
      info(`second hop, ${size / MiB} MiB: seed → peer-1 → peer-2 (the seed gone)`, `${mb(size, second.seconds).toFixed(0)} MB/s`, `first hop: ${mb(size, first.seconds).toFixed(0)} MB/s`);
    });
  } finally {
    await origin.close();
  }
}

async function coldStart() {
  const origin = await startOriginServer();
  try {
    await withCluster("cold", { peers: 2 }, async (cluster) => {
      const times = [];
      for (let i = 0; i < (short ? 3 : 7); i++) {
        origin.publish(`/small-${i}.bin`, { seed: 100 + i, size: MiB });
        const url = origin.url(`/small-${i}.bin`);
        await timedDfget([url, "-O", join(dir, `small-a-${i}`), "--endpoint", cluster.peers[0].socket, "--no-progress"]);
        const { seconds, result } = await timedDfget([url, "-O", join(dir, `small-b-${i}`), "--endpoint", cluster.peers[1].socket, "--no-progress"]);
        if (result.sources.origin) throw new Error("the cold-start download went to the origin");
        times.push(seconds * 1000);
      }
      const nodeStart = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await run(process.execPath, ["-e", "0"]);
        nodeStart.push(performance.now() - started);
      }
      row(
        "cold start: 1 MiB held by a peer, dfget on another (process included)",
        `${median(times).toFixed(0)} ms median`,
        "≤ 150 ms",
        median(times) <= 150,
        `bare node start: ${median(nodeStart).toFixed(0)} ms`,
      );
    });
  } finally {
    await origin.close();
  }
}

try {
  console.log(`df P2P benchmarks (${short ? "short" : "full"} mode), node ${process.version}, data in ${dir}`);
  if (wants("egress")) await egress();
  if (wants("distribution")) await distribution();
  if (wants("throughput")) await throughputAndRss();
  if (wants("hop")) await secondHop();
  if (wants("cold")) await coldStart();
  const widths = ["metric", "value", "baseline", "target", "result"].map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
  const line = (r) => ["metric", "value", "baseline", "target", "result"].map((k, i) => String(r[k]).padEnd(widths[i])).join("  ");
  console.log(`\n${line({ metric: "metric", value: "df", baseline: "baseline", target: "target", result: "result" })}`);
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
} finally {
  await rm(dir, { recursive: true, force: true });
}
