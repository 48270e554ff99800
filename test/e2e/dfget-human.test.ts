import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, dfget, startCluster, type Cluster } from "@df/example-local-cluster/cluster";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MiB = 2 ** 20;
const UNAVAILABLE = 6;
const TIMEOUT = 124;
const CANCELLED = 130;
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let origin: OriginServer;
/** An origin whose uplink gives 1 MiB/s to everyone together. */
let slowOrigin: OriginServer;
let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-human-"));
  origin = await startOriginServer();
  slowOrigin = await startOriginServer({ uploadBytesPerSecond: MiB, chunkBytes: 64 * 1024 });
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 1, seed: false });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await slowOrigin?.close();
  await rm(dir, { recursive: true, force: true });
});

const socket = () => cluster.peers[0]!.socket;

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("dfget's output for people", () => {
  it("blames the origin, not the daemon, when the origin refuses connections, and does not try it again directly", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/file.bin`;
    const result = await dfget([url, "-O", join(dir, "refused.bin"), "--endpoint", socket()], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(UNAVAILABLE);
    expect(result.stderr).toMatch(/^dfget: the origin 127\.0\.0\.1:\d+ refused the connection; check the URL and that the server is up$/m);
    expect(result.stderr).not.toMatch(/no dfdaemon answers|downloading directly|DownloadTask/);
    // The detail is there when asked for.
    const debug = await dfget([url, "-O", join(dir, "refused.bin"), "--endpoint", socket(), "--log-level", "debug"], { timeoutMs: 60_000 });
    expect(debug.code).toBe(UNAVAILABLE);
    expect(debug.stderr).toMatch(/dfget: debug: \[UNAVAILABLE\/connection\] HEAD http:\/\/127\.0\.0\.1:\d+\/file\.bin: connect ECONNREFUSED/);
  });

  it("says when --timeout ran out in the user's terms, with the RPC detail only at --log-level debug", async () => {
    const url = origin.publish("/late.bin", { seed: 3, size: MiB }, { delayMs: 5000 });
    const result = await dfget([url, "-O", join(dir, "late.bin"), "--endpoint", socket(), "--timeout", "1s"], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(TIMEOUT);
    expect(result.stderr).toContain("dfget: the download did not finish within --timeout 1s; give it more time with a longer --timeout");
    expect(result.stderr).not.toMatch(/DownloadTask|deadline exceeded after/);
    const debug = await dfget([url, "-O", join(dir, "late2.bin"), "--endpoint", socket(), "--timeout", "1s", "--log-level", "debug"], { timeoutMs: 60_000 });
    expect(debug.code).toBe(TIMEOUT);
    expect(debug.stderr).toMatch(/dfget: debug: \[DEADLINE_EXCEEDED\/call-deadline\] .*DownloadTask: deadline exceeded after 1000 ms/);
  });

  it("gives tiny files and ranges their real sizes", async () => {
    const small = generateContent(4, 0, 300);
    const smallUrl = origin.publish("/small.bin", { seed: 4, size: 300 });
    const output = join(dir, "small.bin");
    const whole = await dfget([smallUrl, "-O", output, "--endpoint", socket()], { timeoutMs: 60_000 });
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stderr).toMatch(/dfget: saved .*small\.bin \(300 B in [\d.]+ s, .*; from origin 300 B\)$/m);
    expect(sha(await readFile(output))).toBe(sha(small));

    const big = generateContent(5, 0, 9 * MiB);
    const bigUrl = origin.publish("/ranged.bin", { seed: 5, size: 9 * MiB });
    const ranged = join(dir, "ranged.bin");
    const part = await dfget([bigUrl, "-O", ranged, "--range", "100-199", "--endpoint", socket()], { timeoutMs: 60_000 });
    expect(part.code, part.stderr).toBe(0);
    expect(part.stderr).toMatch(/dfget: saved .*ranged\.bin \(100 B in .*; from origin 100 B\)$/m);
    expect(part.stderr).not.toMatch(/MiB|\d{3,}%/);
    expect(sha(await readFile(ranged))).toBe(sha(big.subarray(100, 200)));
  });

  it("says the daemon stopped answering when it dies mid-download, and does not fetch the rest directly", async () => {
    const daemon = await cluster.startDaemon("peer-dies", false);
    const url = slowOrigin.publish("/dies.bin", { seed: 7, size: 16 * MiB });
    const output = join(dir, "dies.bin");
    const running = dfget([url, "-O", output, "--endpoint", daemon.socket], { timeoutMs: 60_000 });
    // Killed once bytes flow, so after it answered dfget (dying before that is "no
    // dfdaemon answers", and dfget rightly fetches directly).
    for (const deadline = Date.now() + 20_000; slowOrigin.stats("/dies.bin").bytesServed < 256 * 1024; ) {
      if (Date.now() > deadline) throw new Error("the daemon fetched nothing within 20 s");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await daemon.process.kill();
    const result = await running;
    expect(result.code, result.stderr).toBe(UNAVAILABLE);
    expect(result.stderr).toMatch(/^dfget: the dfdaemon at \S+dfdaemon\.sock stopped answering during the download .*run dfget again/m);
    expect(result.stderr).not.toMatch(/DownloadTask|without a status|downloading directly/);
    await expect(readFile(output)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("says 'interrupted' on Ctrl-C, not the RPC that was cancelled", async () => {
    // Its own origin, closed at the end: the daemon keeps fetching for its cache after
    // dfget leaves, which would slow the next tests sharing an uplink.
    const ownOrigin = await startOriginServer({ uploadBytesPerSecond: MiB });
    const url = ownOrigin.publish("/interrupted.bin", { seed: 8, size: 16 * MiB });
    const output = join(dir, "interrupted.bin");
    const child = spawn(process.execPath, [BIN.dfget, url, "-O", output, "--endpoint", socket()], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(killer);
    await ownOrigin.close();
    expect(code, stderr).toBe(CANCELLED);
    expect(stderr).toMatch(/^dfget: interrupted: the download was stopped$/m);
    expect(stderr).not.toMatch(/DownloadTask|was cancelled/);
    await expect(readFile(output)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("redraws one terminal line at least every 250 ms with bytes, rate and ETA (a real pty, through script(1))", async () => {
    const size = 4 * MiB;
    const content = generateContent(9, 0, size);
    const url = slowOrigin.publish("/tty.bin", { seed: 9, size });
    const output = join(dir, "tty.bin");
    const command = [process.execPath, BIN.dfget, url, "-O", output, "--endpoint", socket()].map((arg) => `'${arg}'`).join(" ");
    const child = spawn("script", ["-q", "-e", "-c", command, join(dir, "typescript")], { stdio: ["ignore", "pipe", "pipe"] });
    let screen = "";
    child.stdout.on("data", (chunk: Buffer) => (screen += chunk.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const started = performance.now();
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const seconds = (performance.now() - started) / 1000;
    clearTimeout(killer);
    expect(code, screen).toBe(0);
    expect(sha(await readFile(output))).toBe(sha(content));
    const draws = screen.split("\r\x1b[K").slice(1).filter((draw) => /\d+% \(/.test(draw));
    // ~4 s at 1 MiB/s; a draw every 250 ms is 4 a second, less start-up, and timers
    // slip on a loaded machine: at least 3 a second.
    expect(draws.length, screen).toBeGreaterThanOrEqual(Math.floor((seconds - 1.5) * 3));
    expect(draws.some((draw) => /\d+% \([\d.]+ (KiB|MiB) of 4\.0 MiB, [\d.]+ (KiB|MiB)\/s, ETA \d+ s\)/.test(draw)), screen).toBe(true);
    expect(screen).toMatch(/dfget: saved .*tty\.bin \(4\.0 MiB in /);
  }, 60_000);

  for (const ranges of [true, false]) {
    it(`moves between pieces from a slow origin (${ranges ? "ranged requests" : "no ranges: one stream"}), one plain line every few seconds when stderr is not a terminal`, async () => {
      const size = 7 * MiB;
      const content = generateContent(6, 0, size);
      const url = slowOrigin.publish(`/slow-${ranges}.bin`, { seed: 6, size }, { ranges });
      const output = join(dir, `slow-${ranges}.bin`);
      const result = await dfget([url, "-O", output, "--endpoint", socket()], { timeoutMs: 60_000 });
      expect(result.code, result.stderr).toBe(0);
      expect(sha(await readFile(output))).toBe(sha(content));
      const lines = result.stderr.split("\n").filter((line) => /^dfget: \d+% /.test(line));
      // ~7 s at 1 MiB/s: a line at about 3 s and 6 s, each with the rate and time left.
      expect(lines.length, result.stderr).toBeGreaterThanOrEqual(2);
      expect(lines[0]).toMatch(/^dfget: \d+% \([\d.]+ (KiB|MiB) of 7\.0 MiB, [\d.]+ (KiB|MiB)\/s, ETA \d+ s\)$/);
      // At 3 s no 4 MiB piece (nor the 3 MiB last one, sharing the uplink) is whole: what
      // shows are the bytes in flight, which only byte-level progress from the daemon gives.
      const first = Number(/^dfget: (\d+)%/.exec(lines[0]!)![1]);
      expect(first).toBeGreaterThan(10);
      expect(first).toBeLessThan(90);
    }, 60_000);
  }
});
