import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { common } from "./index.js";

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const buf = join(packageDir, "node_modules", ".bin", "buf");

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

describe("generated code", () => {
  it("matches what `pnpm run gen` produces from proto/ (stale output fails here)", async () => {
    const out = await mkdtemp(join(tmpdir(), "df-rpc-gen-"));
    try {
      await run(buf, ["generate", "--output", out], { cwd: packageDir });
      const committed = join(packageDir, "src", "gen");
      const fresh = join(out, "src", "gen");
      const files = await listFiles(committed);
      expect(files).toEqual(await listFiles(fresh));
      for (const file of files) {
        const [want, got] = await Promise.all([readFile(join(fresh, file), "utf8"), readFile(join(committed, file), "utf8")]);
        expect(got, `src/gen/${file} is stale; run \`pnpm -F @df/rpc run gen\``).toBe(want);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it("passes buf lint", async () => {
    await expect(run(buf, ["lint"], { cwd: packageDir })).resolves.toBeDefined();
  });
});

describe("64-bit integers", () => {
  it("round-trip byte counts beyond 2^32 exactly, up to 2^53 − 1", () => {
    for (const value of [2 ** 32 + 1, 5 * 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      const bytes = common.Range.encode(common.Range.create({ start: value, length: value })).finish();
      expect(common.Range.decode(bytes)).toEqual({ start: value, length: value });
    }
  });

  it("refuses to decode a value a number cannot hold rather than rounding it", () => {
    // Field 1 (start) as a varint of 2^53 + 1.
    const varint: number[] = [];
    for (let rest = 2n ** 53n + 1n; ; rest >>= 7n) {
      if (rest < 0x80n) {
        varint.push(Number(rest));
        break;
      }
      varint.push(Number(rest & 0x7fn) | 0x80);
    }
    expect(() => common.Range.decode(Uint8Array.from([0x08, ...varint]))).toThrow(/MAX_SAFE_INTEGER/);
  });

  it("refuses to encode a negative or fractional byte count", () => {
    expect(() => common.Range.encode({ start: -1, length: 0 }).finish()).toThrow();
    expect(() => common.Range.encode({ start: 1.5, length: 0 }).finish()).toThrow();
  });
});
