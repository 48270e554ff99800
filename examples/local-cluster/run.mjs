// The main job: a whole df cluster on this machine, as real processes on loopback. An
// origin serves one sample file; a manager, a scheduler, a seed peer and three peers, with mTLS between them,
// start (the scheduler and the seed peer register with the manager, the peers get their
// scheduler from it); dfget downloads the file on every peer. It prints where each
// download's bytes came from and how much the origin served: about one copy of the
// file, however many peers.
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

/** Polls the manager's REST API until the expected members are active (10 s at most). */
async function activeMembers(manager, expected) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = {};
    for (const kind of Object.keys(expected)) {
      const { status, body } = await manager.api("GET", `/api/v1/${kind}?state=active`);
      if (status !== 200) throw new Error(`GET /api/v1/${kind}: ${status} ${JSON.stringify(body)}`);
      found[kind] = body;
    }
    if (Object.entries(expected).every(([kind, count]) => found[kind].length >= count)) return found;
    if (Date.now() > deadline) throw new Error(`the manager lists ${JSON.stringify(found)}; expected ${JSON.stringify(expected)} active`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const origin = await startOriginServer();
let cluster;
let failed = false;
try {
  origin.publish("/sample.bin", { seed: 42, size: SIZE });
  const url = origin.url("/sample.bin");
  step(`Origin: ${url} (${fmt(SIZE)})`);
  step(`Starting a manager, a scheduler, a seed peer and three peers, all with mTLS (logs in ${dir})`);
  // Every member gets a certificate from a CA made here with openssl (in <dir>/tls):
  // gRPC and the piece ports require member certificates, and each RPC checks the role.
  cluster = await startCluster({ dir, peers: 3, logLevel: "info", manager: true, tls: true });
  console.log(`  mTLS on: CA ${cluster.certs.ca}; each member's certificate names it as spiffe://df/<role>/<host-id>`);
  console.log(`  manager   REST ${cluster.manager.restUrl}/api/v1, gRPC ${cluster.manager.grpc}`);
  console.log(`  scheduler ${cluster.scheduler.address}`);
  for (const daemon of [cluster.seed, ...cluster.peers]) console.log(`  ${daemon.name.padEnd(9)} upload ${daemon.upload}, bytes ${daemon.bytes}, socket ${daemon.socket}`);

  step("The manager's view (REST /api/v1/schedulers and /api/v1/seed-peers): both registered and keeping alive");
  const members = await activeMembers(cluster.manager, { schedulers: 1, "seed-peers": 1 });
  for (const [kind, rows] of Object.entries(members)) {
    for (const row of rows) console.log(`  ${kind === "schedulers" ? "scheduler" : "seed peer"} ${row.hostname} ${row.ip}:${row.port} ${row.state} (cluster ${row.scheduler_cluster_id ?? row.seed_peer_cluster_id})`);
  }

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
