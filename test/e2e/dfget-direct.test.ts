import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { lstat, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBin } from "./support/run.js";

const DFGET = "packages/cli/bin/dfget.js";
const size = 9 * 2 ** 20 + 123;
const content = generateContent(7, 0, size);
const sha256 = createHash("sha256").update(content).digest("hex");

let origin: OriginServer;
let dir: string;
let noDaemon: string;

beforeAll(async () => {
  origin = await startOriginServer();
  origin.publish("/file.bin", { seed: 7, size });
  dir = await mkdtemp(join(tmpdir(), "df-dfget-"));
  noDaemon = join(dir, "no-daemon.sock");
});

afterAll(async () => {
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

describe("dfget with no daemon", () => {
  it("downloads directly from the source, says so, and checks the digest", async () => {
    const output = join(dir, "direct.bin");
    const result = await runBin(DFGET, [origin.url("/file.bin"), "-O", output, "--endpoint", noDaemon, "--digest", `sha256:${sha256}`]);
    expect(result.stderr).toContain("downloading directly from the source");
    expect(result.stderr).toMatch(/dfget: saved .*direct\.bin \(9\.0 MiB in .* from origin 9\.0 MiB\)/);
    expect(result.code).toBe(0);
    expect(createHash("sha256").update(await readFile(output)).digest("hex")).toBe(sha256);
  });

  it("writes to standard output with -O -, a range included", async () => {
    const whole = await runBin(DFGET, [origin.url("/file.bin"), "-O", "-", "--endpoint", noDaemon, "--no-progress"]);
    expect(whole.code).toBe(0);
    expect(Buffer.compare(whole.stdout, Buffer.from(content))).toBe(0);
    const ranged = await runBin(DFGET, [origin.url("/file.bin"), "-O", "-", "--endpoint", noDaemon, "--range", "100-199", "--no-progress"]);
    expect(ranged.code).toBe(0);
    expect(Buffer.compare(ranged.stdout, Buffer.from(content.subarray(100, 200)))).toBe(0);
  });

  it("exits 7 on a digest mismatch and leaves no output behind", async () => {
    const output = join(dir, "bad-digest.bin");
    const result = await runBin(DFGET, [origin.url("/file.bin"), "-O", output, "--endpoint", noDaemon, "--digest", `sha256:${"0".repeat(64)}`]);
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/digest/i);
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it("exits 3 with the reason on a 404", async () => {
    const result = await runBin(DFGET, [origin.url("/missing.bin"), "-O", join(dir, "missing.bin"), "--endpoint", noDaemon]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/dfget: .*404|not found/i);
  });

  it("refuses an existing output unless --overwrite, before downloading anything", async () => {
    const output = join(dir, "exists.bin");
    await writeFile(output, "keep me");
    origin.resetStats();
    const refused = await runBin(DFGET, [origin.url("/file.bin"), "-O", output, "--endpoint", noDaemon]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("already exists; pass --overwrite");
    expect(await readFile(output, "utf8")).toBe("keep me");
    expect(origin.stats("/file.bin").requests).toBe(0);
    const replaced = await runBin(DFGET, [origin.url("/file.bin"), "-O", output, "--endpoint", noDaemon, "--overwrite", "--no-progress"]);
    expect(replaced.code).toBe(0);
    expect((await readFile(output)).length).toBe(size);
  });

  it("refuses a device, FIFO or socket as output, --overwrite or not, and says to use -O -", async () => {
    // Not /dev/null itself: were this to regress, the test would replace it on the machine.
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const socketPath = join(dir, "out.sock");
    const server = createServer().listen(socketPath);
    await once(server, "listening");
    origin.resetStats();
    try {
      for (const target of [fifo, socketPath]) {
        const refused = await runBin(DFGET, [origin.url("/file.bin"), "-O", target, "--endpoint", noDaemon, "--overwrite"]);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain("is not a regular file");
        expect(refused.stderr).toContain("-O - for standard output");
      }
      expect((await lstat(fifo)).isFIFO()).toBe(true);
      expect((await lstat(socketPath)).isSocket()).toBe(true);
    } finally {
      server.close();
    }
    expect(origin.stats("/file.bin").requests).toBe(0);
  });

  it("refuses to fetch directly when back-to-source is disabled", async () => {
    const result = await runBin(DFGET, [origin.url("/file.bin"), "-O", join(dir, "never.bin"), "--endpoint", noDaemon, "--disable-back-to-source"]);
    expect(result.code).toBe(6);
    expect(result.stderr).toContain("--disable-back-to-source forbids fetching directly");
  });

  it("explains bad arguments with exit 2", async () => {
    const notUrl = await runBin(DFGET, ["not a url", "-O", join(dir, "x")]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toContain("is not a URL");
    const badHeader = await runBin(DFGET, [origin.url("/file.bin"), "-O", join(dir, "x"), "-H", "NoColon"]);
    expect(badHeader.code).toBe(2);
    expect(badHeader.stderr).toContain('invalid header "NoColon"');
    const noOutput = await runBin(DFGET, [origin.url("/file.bin")]);
    expect(noOutput.code).toBe(2);
  });
});
