import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { dfget as run, startCluster, type Cluster, type ClusterDaemon as Daemon, type DfgetResult } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MiB = 2 ** 20;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let origin: OriginServer;
let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-p2p-"));
  origin = await startOriginServer();
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 3, logLevel: "info" });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

function publish(path: string, size: number, seed: number): { url: string; digest: string } {
  origin.publish(path, { seed, size });
  return { url: origin.url(path), digest: sha256(generateContent(seed, 0, size)) };
}

async function download(peer: Daemon, url: string, name: string, extra: string[] = []): Promise<DfgetResult & { output: string }> {
  const output = join(dir, name);
  const result = await run([url, "-O", output, "--endpoint", peer.socket, "--no-progress", ...extra]);
  return { ...result, output };
}

describe("P2P download through a real cluster", () => {
  it("serves a multi-piece file to three peers while the origin sends it about once", async () => {
    const size = 21 * MiB + 777; // not a multiple of the 4 MiB piece length
    const { url, digest } = publish("/shared.bin", size, 1);
    const first = await download(cluster.peers[0]!, url, "shared-1.bin");
    expect(first.code, first.stderr).toBe(0);
    expect((first.sources.seed ?? 0) + (first.sources.peers ?? 0)).toBeGreaterThan(0);
    expect(first.sources.origin ?? 0).toBe(0);
    const rest = await Promise.all([download(cluster.peers[1]!, url, "shared-2.bin"), download(cluster.peers[2]!, url, "shared-3.bin")]);
    for (const result of [first, ...rest]) {
      expect(result.code, result.stderr).toBe(0);
      expect(sha256(await readFile(result.output))).toBe(digest);
    }
    expect(origin.stats("/shared.bin").bytesServed).toBeLessThanOrEqual(size * 1.1);
  });

  it("gives two concurrent dfget runs of one URL on one daemon one download and two outputs", async () => {
    const size = 9 * MiB;
    const { url, digest } = publish("/twice.bin", size, 2);
    const [a, b] = await Promise.all([download(cluster.peers[0]!, url, "twice-a.bin"), download(cluster.peers[0]!, url, "twice-b.bin")]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(sha256(await readFile(a.output))).toBe(digest);
    expect(sha256(await readFile(b.output))).toBe(digest);
    expect(origin.stats("/twice.bin").bytesServed).toBeLessThanOrEqual(size * 1.1);
  });

  it("handles zero-byte and one-byte files", async () => {
    const empty = publish("/empty.bin", 0, 3);
    const one = publish("/one.bin", 1, 4);
    const a = await download(cluster.peers[1]!, empty.url, "empty.bin");
    const b = await download(cluster.peers[1]!, one.url, "one.bin");
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect((await readFile(a.output)).length).toBe(0);
    expect(sha256(await readFile(b.output))).toBe(one.digest);
  });

  it("streams a range to standard output", async () => {
    const size = 10 * MiB;
    const { url } = publish("/ranged.bin", size, 5);
    const result = await run([url, "-O", "-", "--endpoint", cluster.peers[2]!.socket, "--no-progress", "--range", `${4 * MiB - 10}-${4 * MiB + 9}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(Buffer.compare(result.stdout, Buffer.from(generateContent(5, 4 * MiB - 10, 20)))).toBe(0);
  });

  it("streams a whole multi-piece file to standard output in order, digest checked", async () => {
    const size = 17 * MiB + 5;
    const { url, digest } = publish("/stdout.bin", size, 9);
    const result = await run([url, "-O", "-", "--endpoint", cluster.peers[1]!.socket, "--no-progress", "--digest", `sha256:${digest}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.length).toBe(size);
    expect(sha256(result.stdout)).toBe(digest);
  });

  it("reports a 404 from the origin as not found (exit 3)", async () => {
    const result = await download(cluster.peers[0]!, origin.url("/nothing-here.bin"), "nothing.bin");
    expect(result.code, result.stderr).toBe(3);
  });

  it("reports an origin 500 as unavailable and an unknown scheme as a bad argument", async () => {
    origin.publish("/broken.bin", { seed: 6, size: 1000 }, { status: 500 });
    const broken = await download(cluster.peers[0]!, origin.url("/broken.bin"), "broken.bin");
    expect(broken.code, broken.stderr).toBe(6);
    const scheme = await download(cluster.peers[0]!, "gopher://127.0.0.1/file", "gopher.bin");
    expect(scheme.code, scheme.stderr).toBe(2);
    expect(scheme.stderr).toMatch(/gopher/);
  });
});

describe("bad input through a real cluster", () => {
  it("refuses a range past the end with a clear error", async () => {
    const { url } = publish("/short.bin", 1000, 21);
    const result = await run([url, "-O", "-", "--endpoint", cluster.peers[0]!.socket, "--no-progress", "--range", "5000-5999"]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/range|out of range|past the end/i);
  });

  it("never hands out bytes of two versions when the origin changes the file mid-download", async () => {
    // The origin swaps to a longer file after a few requests: the download must fail
    // cleanly or deliver exactly one version, never a mix.
    const first = 9 * MiB;
    const second = 13 * MiB;
    origin.publish("/moving.bin", { seed: 31, size: first }, { changeAfter: { requests: 2, content: { seed: 32, size: second } } });
    const result = await download(cluster.peers[2]!, origin.url("/moving.bin"), "moving.bin");
    if (result.code === 0) {
      const bytes = await readFile(result.output);
      const digest = sha256(bytes);
      expect([sha256(generateContent(31, 0, first)), sha256(generateContent(32, 0, second))]).toContain(digest);
    } else {
      expect(result.stderr).toMatch(/dfget: /);
      await expect(readFile(result.output)).rejects.toThrow(/ENOENT/);
    }
  });
});
