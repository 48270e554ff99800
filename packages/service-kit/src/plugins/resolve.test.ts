import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { hasErrorCode, createRecordingLogger, definePlugin, type Evaluator } from "@df/interface";
import { resolvePlugin, resolvePlugins } from "./resolve.js";

const constant = definePlugin({
  kind: "evaluator",
  name: "constant",
  options: z.strictObject({ value: z.number().min(0).max(1).default(0.5) }),
  create: ({ value }): Evaluator => ({ name: "constant", score: () => value }),
});

const builtins = { constant: () => constant, sigma: () => constant };

// A plugin module written the way a third party would: plain JS, branded by the global symbol.
const moduleSource = (name: string, kind = "evaluator") => `
export default {
  [Symbol.for("@df/plugin")]: true,
  kind: ${JSON.stringify(kind)},
  name: ${JSON.stringify(name)},
  create: (options) => ({ name: ${JSON.stringify(name)}, score: () => options.weight ?? 0.25 }),
};
`;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-resolve-"));
  await writeFile(join(dir, "local-evaluator.mjs"), moduleSource("local"));
  await writeFile(join(dir, "a-shaper.mjs"), moduleSource("a-shaper", "shaper"));
  await writeFile(join(dir, "not-a-plugin.mjs"), "export default { hello: 1 };\n");
  await writeFile(join(dir, "broken.mjs"), "export default {{ nope\n");
  const pkg = join(dir, "node_modules", "@acme", "df-evaluator");
  await mkdir(pkg, { recursive: true });
  await writeFile(
    join(pkg, "package.json"),
    JSON.stringify({ name: "@acme/df-evaluator", type: "module", exports: { ".": { default: "./index.js" } } }),
  );
  await writeFile(join(pkg, "index.js"), moduleSource("acme"));
  const esmOnly = join(dir, "node_modules", "df-esm-only-evaluator");
  await mkdir(join(esmOnly, "dist"), { recursive: true });
  await writeFile(
    join(esmOnly, "package.json"),
    JSON.stringify({ name: "df-esm-only-evaluator", type: "module", exports: { ".": { import: "./dist/main.js" } } }),
  );
  await writeFile(join(esmOnly, "dist", "main.js"), moduleSource("esm-only"));
  const broken = join(dir, "node_modules", "@acme", "df-broken");
  await mkdir(broken, { recursive: true });
  await writeFile(join(broken, "package.json"), JSON.stringify({ name: "@acme/df-broken", type: "module", exports: { ".": { default: "./index.js" } } }));
  await writeFile(join(broken, "index.js"), 'throw new Error("cannot find its own dependency left-pad");\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opts = (key = "scheduler.evaluator") => ({ kind: "evaluator" as const, key, builtins, baseDir: dir });
const child = {} as never;

describe("resolvePlugin", () => {
  it("resolves a built-in by name with default options", async () => {
    const evaluator = await resolvePlugin("constant", opts());
    expect(evaluator.name).toBe("constant");
    expect(evaluator.score?.(child, child, { totalPieceCount: 1 })).toBe(0.5);
  });

  it("passes tuple and object options through the plugin's schema", async () => {
    const fromTuple = await resolvePlugin(["constant", { value: 0.9 }], opts());
    expect(fromTuple.score?.(child, child, { totalPieceCount: 1 })).toBe(0.9);
    const fromObject = await resolvePlugin({ name: "constant", options: { value: 0.1 } }, opts());
    expect(fromObject.score?.(child, child, { totalPieceCount: 1 })).toBe(0.1);
  });

  it("names the option key when options are invalid", async () => {
    await expect(resolvePlugin(["constant", { value: 7 }], opts())).rejects.toThrow(
      /scheduler\.evaluator\.1\.value: .*(<=1|too big)/i,
    );
    await expect(resolvePlugin({ name: "constant", options: { valeu: 1 } }, opts())).rejects.toThrow(
      /scheduler\.evaluator\.options/,
    );
  });

  it("suggests the closest built-in for a misspelt name", async () => {
    const error = await resolvePlugin("sigmaa", opts()).catch((e: unknown) => e);
    expect(hasErrorCode(error, "INVALID_ARGUMENT", "invalid-plugin")).toBe(true);
    expect((error as Error).message).toMatch(/^scheduler\.evaluator: no evaluator plugin named "sigmaa" \(did you mean "sigma"\?\)/);
    expect((error as Error).message).toContain("built-in evaluator plugins: constant, sigma");
  });

  it("loads a module path relative to the config folder", async () => {
    const evaluator = await resolvePlugin(["./local-evaluator.mjs", { weight: 0.75 }], opts());
    expect(evaluator.name).toBe("local");
    expect(evaluator.score?.(child, child, { totalPieceCount: 1 })).toBe(0.75);
  });

  it("loads an npm package installed next to the config", async () => {
    const evaluator = await resolvePlugin("@acme/df-evaluator", opts());
    expect(evaluator.name).toBe("acme");
  });

  it("loads an ESM-only package (exports with only an import condition)", async () => {
    const evaluator = await resolvePlugin("df-esm-only-evaluator", opts());
    expect(evaluator.name).toBe("esm-only");
  });

  it("refuses a plugin of the wrong kind, naming the key", async () => {
    await expect(resolvePlugin("./a-shaper.mjs", opts("daemon.evaluator"))).rejects.toThrow(
      'daemon.evaluator: "./a-shaper.mjs" is a shaper plugin, but daemon.evaluator needs a evaluator plugin',
    );
  });

  it("refuses modules that are missing, broken or not plugins", async () => {
    await expect(resolvePlugin("./missing.mjs", opts())).rejects.toThrow(/scheduler\.evaluator: cannot load plugin module "\.\/missing\.mjs"/);
    await expect(resolvePlugin("./broken.mjs", opts())).rejects.toThrow(/cannot load plugin module "\.\/broken\.mjs"/);
    await expect(resolvePlugin("./not-a-plugin.mjs", opts())).rejects.toThrow(/does not export a df plugin definition/);
    await expect(resolvePlugin("@acme/not-installed", opts())).rejects.toThrow(/no evaluator plugin named "@acme\/not-installed"/);
    // Installed but failing to load is not "no plugin named": the real failure is shown.
    await expect(resolvePlugin("@acme/df-broken", opts())).rejects.toThrow(
      /scheduler\.evaluator: cannot load plugin package "@acme\/df-broken".*cannot find its own dependency left-pad/,
    );
  });

  it("refuses malformed entries", async () => {
    await expect(resolvePlugin(42, opts())).rejects.toThrow(/expected a plugin name, \[name, options\] or \{name, options\}, got 42/);
    await expect(resolvePlugin({ name: "constant", opts: {} }, opts())).rejects.toThrow(/unknown field "opts"/);
  });

  it("refuses an instance that lacks what its kind requires", async () => {
    const hollow = definePlugin({ kind: "evaluator", name: "hollow", create: () => ({ name: "hollow" }) as Evaluator });
    await expect(resolvePlugin(hollow, opts())).rejects.toThrow(/made an instance without score or isBadParent/);
  });

  it("wraps factory failures with the key and keeps the cause", async () => {
    const cause = new Error("no GPU today");
    const failing = definePlugin({
      kind: "evaluator",
      name: "failing",
      create: () => {
        throw cause;
      },
    });
    const error = await resolvePlugin(failing, opts()).catch((e: unknown) => e);
    expect((error as Error).message).toBe('scheduler.evaluator: evaluator plugin "failing" failed to start: no GPU today');
    expect((error as Error).cause).toBe(cause);
  });

  it("gives each plugin a logger named for it", async () => {
    const logger = createRecordingLogger("df:scheduler");
    const talking = definePlugin({
      kind: "evaluator",
      name: "talking",
      create: (_options, context) => {
        context.logger.info("ready", { key: context.key });
        return { name: "talking", isBadParent: () => false };
      },
    });
    await resolvePlugin(talking, { ...opts(), logger });
    expect(logger.lines).toEqual([
      { level: "info", component: "df:scheduler:evaluator:talking", message: "ready", fields: { key: "scheduler.evaluator" } },
    ]);
  });

  it("resolves lists with indexed keys", async () => {
    const list = await resolvePlugins(["constant", "./local-evaluator.mjs"], opts("scheduler.evaluators"));
    expect(list.map((e) => e.name)).toEqual(["constant", "local"]);
    await expect(resolvePlugins(["constant", "nope"], opts("scheduler.evaluators"))).rejects.toThrow(/^scheduler\.evaluators\.1: /);
  });
});
