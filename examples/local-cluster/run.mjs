// The main job: a whole df cluster on this machine, as real processes on loopback. An
// origin serves one sample file; a scheduler, a seed peer and three peers start; dfget
// downloads the file on every peer. It prints where each download's bytes came from and
// how much the origin served: about one copy of the file, however many peers.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer } from "@df/compliance-tests";
import { dfget, startCluster } from "./cluster.mjs";

const MIB = Number(process.env.DF_DEMO_MIB ?? 256);
const SIZE = MIB * 2 ** 20 + 12345;
const keep = process.env.DF_DEMO_KEEP === "1";
const dir = await mkdtemp(join(tmpdir(), "df-cluster-"));
const fmt = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const step = (text) => console.log(`\n▸ ${text}`);

async function sha256File(path) {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk);
  return hash.digest("hex");
}

function expectedDigest() {
  const hash = createHash("sha256");
  for (let offset = 0; offset < SIZE; offset += 8 * 2 ** 20) hash.update(generateContent(42, offset, Math.min(8 * 2 ** 20, SIZE - offset)));
  return hash.digest("hex");
}

const origin = await startOriginServer();
let cluster;
let failed = false;
try {
  origin.publish("/sample.bin", { seed: 42, size: SIZE });
  const url = origin.url("/sample.bin");
  step(`Origin: ${url} (${fmt(SIZE)})`);
  step(`Starting a scheduler, a seed peer and three peers (logs in ${dir})`);
  cluster = await startCluster({ dir, peers: 3, logLevel: "info" });
  console.log(`  scheduler ${cluster.scheduler.address}`);
  for (const daemon of [cluster.seed, ...cluster.peers]) console.log(`  ${daemon.name.padEnd(7)} upload ${daemon.upload}, bytes ${daemon.bytes}, socket ${daemon.socket}`);

  const expected = expectedDigest();
  const download = async (peer) => {
    const output = join(dir, `${peer.name}.out`);
    const started = performance.now();
    const result = await dfget([url, "-O", output, "--endpoint", peer.socket, "--no-progress", "--digest", `sha256:${expected}`]);
    const seconds = (performance.now() - started) / 1000;
    if (result.code !== 0) throw new Error(`dfget on ${peer.name} failed (exit ${result.code}): ${result.stderr.trim()}`);
    const sources = Object.entries(result.sources).map(([source, mib]) => `${source} ${mib.toFixed(1)} MiB`).join(", ");
    console.log(`  ${peer.name}: ${seconds.toFixed(2)} s (dfget process included), bytes from ${sources || "nowhere"}`);
    return { output, result };
  };

  step("peer-1 downloads first: the scheduler has the seed peer fetch the file from the origin, and peer-1 takes it from the seed as it arrives");
  const first = await download(cluster.peers[0]);
  step("peer-2 and peer-3 download at once: they take it from the seed and from peer-1");
  const rest = await Promise.all(cluster.peers.slice(1).map(download));

  step("Checking every output");
  for (const { output } of [first, ...rest]) {
    const digest = await sha256File(output);
    if (digest !== expected) throw new Error(`${output} does not match the origin's bytes`);
  }
  console.log(`  all 3 outputs match the origin's sha256 ${expected.slice(0, 16)}…`);
  const stats = origin.stats("/sample.bin");
  step(`The origin served ${fmt(stats.bytesServed)} in ${stats.gets} GETs for 3 downloads of ${fmt(SIZE)}: ${(stats.bytesServed / SIZE).toFixed(2)}× the file (3.00× without df)`);
} catch (error) {
  failed = true;
  console.error(`\nlocal cluster FAILED: ${error.message}\n(logs in ${dir})`);
  process.exitCode = 1;
} finally {
  await cluster?.stop();
  await origin.close();
  if (!keep && !failed) await rm(dir, { recursive: true, force: true });
}
