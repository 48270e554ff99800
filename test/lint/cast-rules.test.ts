import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { castLines, checkCasts } from "../../scripts/check-casts.mjs";

/** Writes `files` (path → text) under a new temporary root; removed when the test ends. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "df-cast-rules-"));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const DOUBLE = "const x = value as unknown as Thing;";

describe("the cast rule (scripts/check-casts.mjs)", () => {
  it("finds each double cast by line, also split over lines, and nothing else", () => {
    const text = ["const a = 1;", DOUBLE, "const b = v as Thing;", "const c = v as unknown;", "const d = (v as\n  unknown as T);", "const e = alias as unknownish as T;"].join("\n");
    expect(castLines(text)).toEqual([2, 5]);
  });

  it("reports file:line in packages and plugins, and leaves tests, test-support and rpc's generated code alone", () => {
    const root = tree({
      "packages/daemon/src/run.ts": `// one\n${DOUBLE}`,
      "packages/daemon/src/deep/phase.mts": DOUBLE,
      "packages/daemon/src/run.test.ts": DOUBLE,
      "packages/daemon/src/test-support/cluster.ts": DOUBLE,
      "packages/daemon/bench/run.ts": DOUBLE,
      "packages/rpc/src/gen/df/manager.ts": DOUBLE,
      "packages/rpc/src/lite.ts": "export const ok = 1;",
      "plugins/source-x/src/index.ts": DOUBLE,
    });
    expect(checkCasts(root)).toEqual([
      `packages/daemon/src/deep/phase.mts:1: ${DOUBLE}`,
      `packages/daemon/src/run.ts:2: ${DOUBLE}`,
      `plugins/source-x/src/index.ts:1: ${DOUBLE}`,
    ]);
  });

  it("holds for this repository", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    expect(checkCasts(root)).toEqual([]);
  });
});
