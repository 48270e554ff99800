// mTLS cost on the data path (issue 14 target): one parent → one child throughput, dfget
// end to end, in a plaintext cluster and in a cluster with mTLS on every member, in the
// same run, rounds interleaved so both see the same machine. Each round: the seed peer
// fetches a fresh file from the origin, then the peer takes it from the seed (gRPC piece
// metadata + the piece port: HTTP or HTTPS). Prints both figures and their ratio (target
// ≥ 0.90×). `--size=<MiB>` (default 512) and `--rounds=<n>` (default 3).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOriginServer } from "@df/compliance-tests";
import { dfget, startCluster } from "@df/example-local-cluster/cluster";

const args = process.argv.slice(2);
const MiB = 2 ** 20;
const size = Number(args.find((a) => a.startsWith("--size="))?.slice(7) ?? 512) * MiB;
const rounds = Number(args.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = await mkdtemp(join(tmpdir(), "df-bench-tls-"));

async function timedDfget(argv) {
  const started = performance.now();
  const result = await dfget(argv);
  if (result.code !== 0) throw new Error(`dfget failed (${result.code}): ${result.stderr}`);
  return { seconds: (performance.now() - started) / 1000, sources: result.sources };
}

const origin = await startOriginServer();
const clusters = {};
try {
  for (const mode of ["plaintext", "mtls"]) {
    clusters[mode] = await startCluster({ dir: join(dir, mode), peers: 1, logLevel: "warn", tls: mode === "mtls" });
  }
  const seconds = { plaintext: [], mtls: [] };
  for (let i = 0; i < rounds; i++) {
    for (const mode of i % 2 === 0 ? ["plaintext", "mtls"] : ["mtls", "plaintext"]) {
      const cluster = clusters[mode];
      const path = `/${mode}-${i}.bin`;
      origin.publish(path, { seed: 90 + i, size });
      const url = origin.url(path);
      const seedOut = join(dir, `${mode}-seed-${i}`);
      await timedDfget([url, "-O", seedOut, "--endpoint", cluster.seed.socket, "--no-progress"]);
      const childOut = join(dir, `${mode}-child-${i}`);
      const child = await timedDfget([url, "-O", childOut, "--endpoint", cluster.peers[0].socket, "--no-progress"]);
      if ((child.sources.origin ?? 0) > 0) throw new Error(`${mode}: the child went to the origin (${JSON.stringify(child.sources)})`);
      seconds[mode].push(child.seconds);
      console.log(`round ${i + 1} ${mode.padEnd(9)} ${(size / 1e6 / child.seconds).toFixed(0)} MB/s (${child.seconds.toFixed(2)} s)`);
      await rm(seedOut, { force: true });
      await rm(childOut, { force: true });
    }
  }
  const plain = size / 1e6 / median(seconds.plaintext);
  const tls = size / 1e6 / median(seconds.mtls);
  const ratio = tls / plain;
  console.log(`\none parent → one child, ${size / MiB} MiB, dfget end to end, median of ${rounds}:`);
  console.log(`  plaintext ${plain.toFixed(0)} MB/s`);
  console.log(`  mTLS      ${tls.toFixed(0)} MB/s`);
  console.log(`  ratio     ${ratio.toFixed(2)}× (target ≥ 0.90×) ${ratio >= 0.9 ? "PASS" : "MISS"}`);
} finally {
  await Promise.all(Object.values(clusters).map((c) => c.stop()));
  await origin.close();
  await rm(dir, { recursive: true, force: true });
}
