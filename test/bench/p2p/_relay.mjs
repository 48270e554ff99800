// Second hop: the seed's copy went to peer-1 with direct I/O (not in page cache), then
// the seed leaves and peer-2 can only fetch from peer-1, whose reads come from disk.
import { startOriginServer } from "@df/compliance-tests";
import { dfget, startCluster } from "@df/example-local-cluster/cluster";
import { rm } from "node:fs/promises";
const MiB = 2 ** 20;
const size = Number(process.env.SIZE ?? 1024) * MiB;
const dir = "/tmp/inv/relay"; await rm(dir, { recursive: true, force: true });
const origin = await startOriginServer();
const cluster = await startCluster({ dir, logLevel: "warn", peers: 2, daemonArgs: process.env.DAEMON_ARGS ? process.env.DAEMON_ARGS.split(" ") : [] });
try {
  origin.publish(`/r.bin`, { seed: 77, size });
  const url = origin.url(`/r.bin`);
  const go = async (who, out) => { const t = performance.now(); const r = await dfget([url, "-O", out, "--endpoint", who.socket, "--no-progress"]); const s = (performance.now() - t) / 1000; console.log(who.name, (size / 1e6 / s).toFixed(0), "MB/s", r.code, r.stderr.trim().split("\n").slice(-1)[0]); };
  await go(cluster.seed, `${dir}/o-seed`);
  await go(cluster.peers[0], `${dir}/o-p1`);
  await cluster.seed.process.stop();
  await new Promise((r) => setTimeout(r, 500));
  await go(cluster.peers[1], `${dir}/o-p2`);
} finally { await cluster.stop().catch(() => {}); await origin.close(); await rm(dir, { recursive: true, force: true }); }
