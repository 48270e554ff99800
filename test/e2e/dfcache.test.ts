import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BIN, dfcache, startCluster, startProcess, type Cluster, type ClusterDaemon } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Exit codes dfcache promises (packages/cli/src/exit-codes.ts).
const OK = 0;
const USAGE = 2;
const NOT_FOUND = 3;
const EXISTS = 4;
const PERMISSION_DENIED = 5;
/** The unprivileged user a daemon runs as when these tests run as root. */
const NOBODY = 65534;

const MiB = 2 ** 20;
let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-dfcache-"));
  // No seed and no origin: cache data lives on peers only.
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 2, seed: false });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

const peer = (n: number): ClusterDaemon => cluster.peers[n]!;
const run = (on: ClusterDaemon, args: string[]) => dfcache([...args, "--endpoint", on.socket, "--no-progress"], { timeoutMs: 60_000 });

async function file(name: string, bytes: Uint8Array | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe("dfcache across real processes", () => {
  it("imports on one peer; the other stats it, exports it from that peer, and deletes it", async () => {
    const bytes = randomBytes(9 * MiB + 5);
    const input = await file("build-output.bin", bytes);
    const imported = await run(peer(0), ["import", "--cid", "sha256:build-1", "--tag", "ci", input, "--json"]);
    expect(imported.code, imported.stderr).toBe(OK);
    expect(JSON.parse(imported.stdout)).toMatchObject({ operation: "import", contentLength: bytes.length, pieceCount: 3 });

    expect((await run(peer(0), ["stat", "--cid", "sha256:build-1", "--tag", "ci", "--local"])).code).toBe(OK);
    expect((await run(peer(1), ["stat", "--cid", "sha256:build-1", "--tag", "ci", "--local"])).code).toBe(NOT_FOUND);
    const remote = await run(peer(1), ["stat", "--cid", "sha256:build-1", "--tag", "ci", "--json"]);
    expect(remote.code, remote.stderr).toBe(OK);
    expect(JSON.parse(remote.stdout)).toMatchObject({ found: true, contentLength: bytes.length });
    // Another tag is another task.
    expect((await run(peer(1), ["stat", "--cid", "sha256:build-1", "--tag", "other"])).code).toBe(NOT_FOUND);

    const output = join(dir, "exported", "build-output.bin");
    const exported = await run(peer(1), ["export", "--cid", "sha256:build-1", "--tag", "ci", "-O", output]);
    expect(exported.code, exported.stderr).toBe(OK);
    expect((await readFile(output)).equals(bytes)).toBe(true);
    expect((await run(peer(1), ["stat", "--cid", "sha256:build-1", "--tag", "ci", "--local"])).code).toBe(OK);

    expect((await run(peer(1), ["delete", "--cid", "sha256:build-1", "--tag", "ci"])).code).toBe(OK);
    expect((await run(peer(1), ["stat", "--cid", "sha256:build-1", "--tag", "ci", "--local"])).code).toBe(NOT_FOUND);
    // Deleting what is not here is "not found", not an error.
    expect((await run(peer(1), ["delete", "--cid", "sha256:build-1", "--tag", "ci"])).code).toBe(NOT_FOUND);
  });

  it("answers not-found quickly for a cid nobody has, on stat and export, and writes nothing", async () => {
    const started = performance.now();
    const statted = await run(peer(1), ["stat", "--cid", "nobody-has-this"]);
    const output = join(dir, "never.bin");
    const exported = await run(peer(1), ["export", "--cid", "nobody-has-this", "-O", output]);
    expect(statted.code, statted.stderr).toBe(NOT_FOUND);
    expect(exported.code, exported.stderr).toBe(NOT_FOUND);
    expect(performance.now() - started).toBeLessThan(5000);
    await expect(stat(output)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses to import a missing file, a directory, or nothing at all, with clear errors", async () => {
    const missing = await run(peer(0), ["import", "--cid", "bad-1", join(dir, "no-such-file.bin")]);
    expect(missing.code).toBe(NOT_FOUND);
    expect(missing.stderr).toMatch(/does not exist/);
    await mkdir(join(dir, "a-directory"), { recursive: true });
    const directory = await run(peer(0), ["import", "--cid", "bad-2", join(dir, "a-directory")]);
    expect(directory.code).toBe(USAGE);
    expect(directory.stderr).toMatch(/not a regular file/);
    expect((await run(peer(0), ["import", join(dir, "a-directory")])).code).toBe(USAGE);
    expect((await run(peer(0), ["stat", "--cid", "bad-2"])).code).toBe(NOT_FOUND);
  });

  it("refuses to import a file the daemon may not read, with a clear error and exit code 5, storing nothing", async () => {
    // The daemon must not be root, which could read anything: as root, start one as
    // nobody in folders it owns; as another user, this daemon already cannot read a
    // mode-000 file.
    const root = process.getuid?.() === 0;
    const home = join(dir, "unprivileged");
    await mkdir(join(home, "storage"), { recursive: true });
    await chmod(dir, 0o755);
    await chmod(home, 0o755);
    if (root) await chown(join(home, "storage"), NOBODY, NOBODY);
    const daemon = await startProcess(
      "peer-unprivileged",
      BIN.dfdaemon,
      [
        "--config", fileURLToPath(new URL("../../examples/local-cluster/peer.yaml", import.meta.url)),
        "--scheduler", cluster.scheduler.address,
        "--storage-dir", join(home, "storage"),
        "--socket", join(home, "storage", "dfdaemon.sock"),
        "--upload-listen", "127.0.0.1:0",
        "--bytes-listen", "127.0.0.1:0",
        "--metrics-listen", "",
        "--hostname", "peer-unprivileged",
        "--ip", "127.0.0.1",
        "--log-level", "info",
      ],
      {
        ready: /dfdaemon ready: socket=(\S+)/,
        logFile: join(dir, "peer-unprivileged.log"),
        ...(root ? { uid: NOBODY, gid: NOBODY } : {}),
      },
    );
    try {
      const secret = await file("secret.bin", randomBytes(100_000));
      await chmod(secret, 0o000);
      const refused = await dfcache(["import", "--cid", "secret", secret, "--endpoint", daemon.match[1]!, "--no-progress"], { timeoutMs: 60_000 });
      expect(refused.code, refused.stderr).toBe(PERMISSION_DENIED);
      expect(refused.stderr).toMatch(/cannot be read: permission denied/);
      expect(refused.stderr).toContain(secret);
      // Nothing was stored or announced: nobody finds the cid.
      expect((await dfcache(["stat", "--cid", "secret", "--endpoint", daemon.match[1]!, "--local"])).code).toBe(NOT_FOUND);
      expect((await run(peer(1), ["stat", "--cid", "secret"])).code).toBe(NOT_FOUND);
      // The same daemon imports a file it may read.
      const readable = await file("readable.bin", randomBytes(100_000));
      await chmod(readable, 0o644);
      const imported = await dfcache(["import", "--cid", "readable", readable, "--endpoint", daemon.match[1]!, "--no-progress"]);
      expect(imported.code, imported.stderr).toBe(OK);
    } finally {
      await daemon.stop();
    }
  });

  it("refuses to export over an existing file unless --overwrite, leaving it unchanged", async () => {
    const input = await file("config.json", '{"v":2}');
    expect((await run(peer(0), ["import", "--cid", "cfg", input])).code).toBe(OK);
    const output = await file("existing-output.json", '{"v":1}');
    for (const on of [peer(0), peer(1)]) {
      const refused = await run(on, ["export", "--cid", "cfg", "-O", output]);
      expect(refused.code).toBe(EXISTS);
      expect(await readFile(output, "utf8")).toBe('{"v":1}');
    }
    expect((await run(peer(1), ["export", "--cid", "cfg", "-O", output, "--overwrite"])).code).toBe(OK);
    expect(await readFile(output, "utf8")).toBe('{"v":2}');
  });

  it("two imports of one cid with different content: the first stays, the second is refused everywhere", async () => {
    const first = await file("first.bin", randomBytes(MiB));
    const second = await file("second.bin", randomBytes(MiB));
    expect((await run(peer(0), ["import", "--cid", "dup", first])).code).toBe(OK);
    // Same content again: done (it re-announces).
    expect((await run(peer(0), ["import", "--cid", "dup", first])).code).toBe(OK);
    const here = await run(peer(0), ["import", "--cid", "dup", second]);
    expect(here.code).toBe(EXISTS);
    expect(here.stderr).toMatch(/different content/);
    const there = await run(peer(1), ["import", "--cid", "dup", second]);
    expect(there.code).toBe(EXISTS);
    expect((await run(peer(1), ["stat", "--cid", "dup", "--local"])).code).toBe(NOT_FOUND);
    const output = join(dir, "dup-out.bin");
    expect((await run(peer(1), ["export", "--cid", "dup", "-O", output])).code).toBe(OK);
    expect((await readFile(output)).equals(await readFile(first))).toBe(true);
  });

  it("fails with a usage error when the daemon socket is wrong or the cid is missing", async () => {
    const noCid = await dfcache(["stat", "--endpoint", peer(0).socket]);
    expect(noCid.code).toBe(USAGE);
    const noDaemon = await dfcache(["stat", "--cid", "x", "--endpoint", join(dir, "nobody.sock"), "--timeout", "2s"]);
    expect([6, 124]).toContain(noDaemon.code);
  });
});
