import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { checkImports, findCycles, specifiersOf } from "../../scripts/check-imports.mjs";

/** Writes `files` (path → text) under a new temporary root; removed when the test ends. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "df-import-rules-"));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const manifest = (name: string) => JSON.stringify({ name });

describe("the import rules (scripts/check-imports.mjs)", () => {
  it("reads static, type-only, re-export, side-effect and dynamic imports", () => {
    const text = [
      'import { a } from "./a.js";',
      'import type { B } from "./b.js";',
      'export { c } from "./c.js";',
      'export * from "./d.js";',
      'import "./e.js";',
      'const f = await import("./f.js");',
      "import {\n  g,\n  type H,\n} from '@df/rpc';",
    ].join("\n");
    expect(specifiersOf(text).sort()).toEqual(["./a.js", "./b.js", "./c.js", "./d.js", "./e.js", "./f.js", "@df/rpc"]);
  });

  it("finds one cycle per tangle, and none in a graph without one", () => {
    const graph = new Map([
      ["a", new Set(["b"])],
      ["b", new Set(["c"])],
      ["c", new Set(["a", "d"])],
      ["d", new Set<string>()],
      ["e", new Set(["e"])],
    ]);
    expect(findCycles(graph)).toEqual(expect.arrayContaining([["a", "b", "c", "a"], ["e", "e"]]));
    expect(findCycles(graph)).toHaveLength(2);
    expect(findCycles(new Map([["a", new Set(["b"])], ["b", new Set<string>()]]))).toEqual([]);
  });

  it("reports a type-only cycle and a service importing another, and leaves tests and test-support alone", () => {
    const root = tree({
      "packages/daemon/package.json": manifest("@df/daemon"),
      "packages/daemon/src/run.ts": 'import { phase } from "./phase.js";\nexport const run = phase;',
      "packages/daemon/src/phase.ts": 'import type { Run } from "./run.js";\nexport const phase = 1;',
      "packages/daemon/src/link.ts": 'import { Scheduler } from "@df/scheduler";',
      "packages/daemon/src/link.test.ts": 'import { Manager } from "@df/manager";',
      "packages/daemon/src/test-support/cluster.ts": 'import { Manager } from "@df/manager/testing";',
      "packages/scheduler/package.json": manifest("@df/scheduler"),
      "packages/scheduler/src/index.ts": 'import { x } from "./a.js";',
      "packages/scheduler/src/a.ts": "export const x = 1;",
      "plugins/source-x/package.json": manifest("@df/source-x"),
      "plugins/source-x/src/index.ts": 'import { definePlugin } from "@df/interface";',
    });
    expect(checkImports(root)).toEqual([
      "packages/daemon/src/link.ts imports @df/scheduler: a service package must not import another service",
      "import cycle in @df/daemon: phase.ts → run.ts → phase.ts",
    ]);
  });

  it("keeps plugins on the contracts, and the contracts' main entry free of heavy packages at run time", () => {
    const root = tree({
      "packages/interface/package.json": manifest("@df/interface"),
      "packages/interface/src/index.ts": 'export * from "./tokens.js";\nexport type { Z } from "./schema.js";',
      "packages/interface/src/tokens.ts": 'import type { InjectionToken } from "tsyringe";\nimport { helper } from "./helper.js";',
      "packages/interface/src/helper.ts": 'import { parse } from "yaml";',
      "packages/interface/src/schema.ts": 'import { z } from "zod";',
      "plugins/source-y/package.json": manifest("@df/source-y"),
      "plugins/source-y/src/index.ts": 'import { loadConfig } from "@df/service-kit";',
      "plugins/source-y/src/index.test.ts": 'import { resolvePlugin } from "@df/service-kit";',
    });
    expect(checkImports(root)).toEqual([
      "@df/interface loads yaml at run time (index.ts → tokens.ts → helper.ts): keep it to types, or move it to @df/interface/zod or @df/service-kit",
      "plugins/source-y/src/index.ts imports @df/service-kit: a plugin depends on @df/interface only (the services' kit is for services)",
    ]);
  });

  it("holds for this repository", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    expect(checkImports(root)).toEqual([]);
  });
});
