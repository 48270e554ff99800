import { createHash } from "node:crypto";
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { dfcache, dfget as run, startCluster, type Cluster, type ClusterDaemon, type DfgetResult } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 15, problem 1: a dfget output is the user's file. Editing or truncating it must
// never change what the daemon hands out next, and bytes changed inside the store
// itself are caught at the next local hit.

const MiB = 2 ** 20;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let origin: OriginServer;
let cluster: Cluster;
let dir: string;
let peer: ClusterDaemon;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-outputs-"));
  origin = await startOriginServer();
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 1, seed: false, logLevel: "info" });
  peer = cluster.peers[0]!;
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

async function download(url: string, name: string, extra: string[] = []): Promise<DfgetResult & { output: string }> {
  const output = join(dir, name);
  const result = await run([url, "-O", output, "--endpoint", peer.socket, "--no-progress", ...extra], { timeoutMs: 60_000 });
  return { ...result, output };
}

/** The content file of the stored task of `size` bytes in the peer's store (each test uses its own size). */
async function storeFile(size: number): Promise<string> {
  const root = join(cluster.dir, peer.name, "storage", "content", "tasks");
  const found: string[] = [];
  for (const prefix of await readdir(root)) {
    for (const name of await readdir(join(root, prefix))) {
      const file = join(root, prefix, name);
      if ((await stat(file)).size === size) found.push(file);
    }
  }
  expect(found, `one stored task of ${size} bytes`).toHaveLength(1);
  return found[0]!;
}

async function writeAt(file: string, position: number, text: string): Promise<void> {
  const handle = await open(file, "r+");
  try {
    await handle.write(Buffer.from(text), 0, text.length, position);
  } finally {
    await handle.close();
  }
}

describe("dfget outputs are the user's", () => {
  it("gives the output bytes of its own: editing it in place and truncating it leave the cached copy intact", async () => {
    const size = 9 * MiB + 123;
    const { url, digest } = publish("/edit-me.bin", size, 41);
    const first = await download(url, "edit-1.bin");
    expect(first.code, first.stderr).toBe(0);
    expect(sha256(await readFile(first.output))).toBe(digest);
    const stored = await storeFile(size);
    expect((await stat(first.output)).ino).not.toBe((await stat(stored)).ino);

    // In place (same inode), then truncated: what editors, `>>` and `: >` do.
    await writeAt(first.output, 4 * MiB + 7, "edited by the user");
    await truncate(first.output, 0);

    const second = await download(url, "edit-2.bin");
    expect(second.code, second.stderr).toBe(0);
    expect(sha256(await readFile(second.output))).toBe(digest);
    // Served from this host's store, not fetched again.
    expect(second.sources.local ?? 0).toBeGreaterThan(0);
    expect(origin.stats("/edit-me.bin").bytesServed).toBeLessThanOrEqual(size * 1.1);
  });

  it("with --hard-link shares the cached file, says so in --help, and an edit through the link is caught and fetched again", async () => {
    const help = await run(["--help"]);
    // Commander wraps the text to the terminal: compare with the wrapping undone.
    expect((help.stdout.toString() + help.stderr).replace(/\s+/g, " ")).toMatch(/--hard-link .*editing it in place changes the cached copy/);

    const size = 5 * MiB + 321;
    const { url, digest } = publish("/linked.bin", size, 42);
    const linked = await download(url, "linked-1.bin", ["--hard-link"]);
    expect(linked.code, linked.stderr).toBe(0);
    expect(sha256(await readFile(linked.output))).toBe(digest);
    const stored = await storeFile(size);
    expect((await stat(linked.output)).ino).toBe((await stat(stored)).ino);

    // A second hard-linked download of the untouched task is a plain local hit.
    const again = await download(url, "linked-2.bin", ["--hard-link"]);
    expect(again.code, again.stderr).toBe(0);
    expect(sha256(await readFile(again.output))).toBe(digest);
    expect(origin.stats("/linked.bin").bytesServed).toBeLessThanOrEqual(size * 1.1);

    // The documented cost of --hard-link: the edit reaches the store's file...
    await writeAt(linked.output, 100, "edited through the link");
    expect(sha256(await readFile(stored))).not.toBe(digest);
    // ...and the next download notices, drops the damaged task and fetches it again.
    const after = await download(url, "linked-3.bin");
    expect(after.code, after.stderr).toBe(0);
    expect(sha256(await readFile(after.output))).toBe(digest);
    expect(origin.stats("/linked.bin").bytesServed).toBeGreaterThanOrEqual(size * 2);
    expect(await readFile(peer.logFile, "utf8")).toMatch(/no longer matches its pieces/);
  });

  it("catches bytes written straight into the store at the next local hit, and never hands them out", async () => {
    const size = 7 * MiB + 55;
    const { url, digest } = publish("/tampered.bin", size, 43);
    const first = await download(url, "tampered-1.bin");
    expect(first.code, first.stderr).toBe(0);
    expect(sha256(await readFile(first.output))).toBe(digest);

    const stored = await storeFile(size);
    const before = await stat(stored);
    await writeAt(stored, 6 * MiB, "bad bytes");

    const second = await download(url, "tampered-2.bin");
    expect(second.code, second.stderr).toBe(0);
    expect(sha256(await readFile(second.output))).toBe(digest);
    expect(origin.stats("/tampered.bin").bytesServed).toBeGreaterThanOrEqual(size * 2);
    // The task was stored again: a new file, good bytes.
    const restored = await storeFile(size);
    expect(sha256(await readFile(restored))).toBe(digest);
    expect((await stat(restored)).ctimeMs).not.toBe(before.ctimeMs);

    // From then on it is an ordinary local hit again.
    const third = await download(url, "tampered-3.bin");
    expect(third.code, third.stderr).toBe(0);
    expect(sha256(await readFile(third.output))).toBe(digest);
    expect(origin.stats("/tampered.bin").bytesServed).toBeLessThan(size * 3);
  });

  it("keeps dfcache export consistent: an edited export leaves the cached copy intact", async () => {
    const bytes = generateContent(44, 0, 3 * MiB + 9);
    const input = join(dir, "cache-input.bin");
    await writeFile(input, bytes);
    const imported = await dfcache(["import", "--cid", "sha256:outputs-1", input, "--endpoint", peer.socket, "--no-progress"], { timeoutMs: 60_000 });
    expect(imported.code, imported.stderr).toBe(0);
    const output = join(dir, "cache-export.bin");
    const exported = await dfcache(["export", "--cid", "sha256:outputs-1", "-O", output, "--endpoint", peer.socket, "--no-progress"], { timeoutMs: 60_000 });
    expect(exported.code, exported.stderr).toBe(0);
    expect(sha256(await readFile(output))).toBe(sha256(bytes));
    await writeAt(output, 10, "edited");
    await truncate(output, 5);
    const again = join(dir, "cache-export-2.bin");
    const second = await dfcache(["export", "--cid", "sha256:outputs-1", "-O", again, "--endpoint", peer.socket, "--no-progress"], { timeoutMs: 60_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(sha256(await readFile(again))).toBe(sha256(bytes));
  });

  it("refuses a --timeout Node could not wait for, before anything is fetched", async () => {
    const { url } = publish("/never.bin", 1000, 45);
    const result = await download(url, "never.bin", ["--timeout", "30d"]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/--timeout must be at most 24.8 days/);
    expect(origin.stats("/never.bin").bytesServed).toBe(0);
  });
});
