import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfig, parseConfig } from "./config.js";
import { hasErrorCode } from "@df/interface";
import { byteSize, duration } from "@df/interface/zod";

const schema = z.strictObject({
  storage: z
    .strictObject({
      dir: z.string().default("/var/lib/df"),
      gc: z
        .strictObject({
          highWatermarkPercent: z.number().int().min(1).max(100).default(80),
          taskTtl: duration("30d", { ttl: true }),
        })
        .prefault({}),
    })
    .prefault({}),
  download: z
    .strictObject({
      totalRateLimit: byteSize("1024Mi"),
      concurrentPieceCount: z.number().int().positive().default(8),
    })
    .prefault({}),
  hostname: z.string().default("localhost"),
  tags: z.array(z.string()).default([]),
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe("loadConfig", () => {
  it("fills every default from the schema when nothing is given", async () => {
    const { config } = await loadConfig({ schema, name: "dfdaemon", env: {} });
    expect(config).toEqual({
      storage: { dir: "/var/lib/df", gc: { highWatermarkPercent: 80, taskTtl: 30 * 86_400_000 } },
      download: { totalRateLimit: 1024 * 2 ** 20, concurrentPieceCount: 8 },
      hostname: "localhost",
      tags: [],
    });
  });

  it("layers file, then env, then flags", async () => {
    const path = await file("layers.yaml", "storage:\n  dir: /data/df\n  gc:\n    highWatermarkPercent: 70\nhostname: from-file\n");
    const { config, sources } = await loadConfig({
      schema,
      name: "dfdaemon",
      file: path,
      envPrefix: "DF_DAEMON_",
      env: {
        DF_DAEMON_STORAGE__GC__HIGH_WATERMARK_PERCENT: "85",
        DF_DAEMON_DOWNLOAD__TOTAL_RATE_LIMIT: "20M",
        DF_DAEMON_HOSTNAME: "12345",
        DF_DAEMON_TAGS: "[a, b]",
        UNRELATED: "x",
      },
      overrides: { hostname: "from-flag" },
    });
    expect(config.storage).toEqual({ dir: "/data/df", gc: { highWatermarkPercent: 85, taskTtl: 30 * 86_400_000 } });
    expect(config.download.totalRateLimit).toBe(20_000_000);
    expect(config.hostname).toBe("from-flag");
    expect(config.tags).toEqual(["a", "b"]);
    expect(sources.get("storage.dir")).toBe(`file ${path}`);
    expect(sources.get("storage.gc.highWatermarkPercent")).toBe("env DF_DAEMON_STORAGE__GC__HIGH_WATERMARK_PERCENT");
    expect(sources.get("hostname")).toBe("flag");
  });

  it("keeps a numeric-looking env value a string where the schema wants a string", async () => {
    const { config } = await loadConfig({ schema, name: "dfdaemon", envPrefix: "DF_", env: { DF_HOSTNAME: "12345" } });
    expect(config.hostname).toBe("12345");
  });

  it("names the dotted key, the problem and the source of a bad value", async () => {
    const path = await file("bad.yaml", "download:\n  concurrentPieceCount: -3\n");
    const error = await loadConfig({
      schema,
      name: "dfdaemon",
      file: path,
      envPrefix: "DF_",
      env: { DF_STORAGE__GC__HIGH_WATERMARK_PERCENT: "120" },
    }).catch((e: unknown) => e);
    expect(hasErrorCode(error, "INVALID_ARGUMENT", "invalid-config")).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/^invalid dfdaemon config:/);
    expect(message).toMatch(/download\.concurrentPieceCount: .*>0.* \(from file .*bad\.yaml\)/);
    expect(message).toMatch(/storage\.gc\.highWatermarkPercent: .*<=100.* \(from env DF_STORAGE__GC__HIGH_WATERMARK_PERCENT\)/);
  });

  it("suggests the right key for a typo in the file", async () => {
    const path = await file("typo.yaml", "storage:\n  gcc:\n    highWatermarkPercent: 70\n");
    await expect(loadConfig({ schema, name: "dfdaemon", file: path })).rejects.toThrow(
      /storage\.gcc: unknown key \(did you mean "gc"\?\)/,
    );
  });

  it("refuses an env override that names no key", async () => {
    await expect(
      loadConfig({ schema, name: "dfdaemon", envPrefix: "DF_", env: { DF_STORAGE__DIRR: "/x" } }),
    ).rejects.toThrow(/DF_STORAGE__DIRR: no config key "storage\.dirr" \(did you mean storage\.dir\?\)/);
  });

  it("reports bad units with the accepted forms", async () => {
    await expect(
      loadConfig({ schema, name: "dfdaemon", envPrefix: "DF_", env: { DF_DOWNLOAD__TOTAL_RATE_LIMIT: "fast" } }),
    ).rejects.toThrow(/download\.totalRateLimit: invalid byte size "fast": use a number with an optional unit/);
  });

  it("reports missing files, YAML syntax errors and non-mapping documents", async () => {
    const missing = await loadConfig({ schema, name: "dfdaemon", file: join(dir, "nope.yaml") }).catch((e: unknown) => e);
    expect(hasErrorCode(missing, "NOT_FOUND")).toBe(true);
    expect((missing as Error).message).toContain("nope.yaml");
    const broken = await file("broken.yaml", "storage: [unclosed\n");
    await expect(loadConfig({ schema, name: "dfdaemon", file: broken })).rejects.toThrow(/broken\.yaml: not valid YAML/);
    const list = await file("list.yaml", "- a\n- b\n");
    await expect(loadConfig({ schema, name: "dfdaemon", file: list })).rejects.toThrow(/top level must be a mapping/);
  });

  it("accepts an empty file as all defaults", async () => {
    const empty = await file("empty.yaml", "");
    const { config } = await loadConfig({ schema, name: "dfdaemon", file: empty });
    expect(config.download.concurrentPieceCount).toBe(8);
  });
});

describe("parseConfig", () => {
  it("validates in-memory objects with the same messages", () => {
    expect(() => parseConfig(schema, { tags: "x" }, "scheduler")).toThrow(/^invalid scheduler config:\n {2}tags: /);
  });
});
