import os from "node:os";
import { describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { listUnitFields } from "@df/interface/zod";
import { loadConfig, parseConfig, unitRangeProblems } from "@df/service-kit";
import { daemonConfig, daemonConfigSchema } from "./config.js";

describe("daemon config", () => {
  it("serves 4 uploads of one task at once by default, 0 for no limit, and names the key of a bad value", () => {
    expect(daemonConfig().upload.concurrencyPerTask).toBe(4);
    expect(parseConfig(daemonConfigSchema, { upload: { concurrencyPerTask: 0 } }, "dfdaemon").upload.concurrencyPerTask).toBe(0);
    for (const bad of [-1, 1.5, "many"]) {
      expect(() => parseConfig(daemonConfigSchema, { upload: { concurrencyPerTask: bad } }, "dfdaemon")).toThrow(/upload\.concurrencyPerTask/);
    }
  });

  it("limits the piece server's connections by default, takes other limits, and names the key of a bad one", () => {
    expect(daemonConfig().upload).toMatchObject({
      headerTimeout: 10_000,
      idleTimeout: 65_000,
      writeTimeout: 30_000,
      connectionsPerAddress: 64,
      connectionsPerAddressExempt: ["127.0.0.0/8", "::1"],
    });
    const set = parseConfig(
      daemonConfigSchema,
      { upload: { headerTimeout: "2s", idleTimeout: "40s", writeTimeout: "1m", connectionsPerAddress: 0, connectionsPerAddressExempt: ["10.1.0.0/16"] } },
      "dfdaemon",
    ).upload;
    expect(set).toMatchObject({ headerTimeout: 2000, idleTimeout: 40_000, writeTimeout: 60_000, connectionsPerAddress: 0, connectionsPerAddressExempt: ["10.1.0.0/16"] });
    const bad: [string, unknown][] = [
      ["headerTimeout", "0s"],
      ["idleTimeout", "soon"],
      ["writeTimeout", "0ms"],
      ["connectionsPerAddress", -1],
      ["connectionsPerAddress", 2.5],
      ["connectionsPerAddressExempt", ["10.0.0.0/33"]],
      ["connectionsPerAddressExempt", ["gateway"]],
    ];
    for (const [key, value] of bad) {
      expect(() => parseConfig(daemonConfigSchema, { upload: { [key]: value } }, "dfdaemon"), key).toThrow(new RegExp(`upload\\.${key}`));
    }
  });

  it("sends piece announcements without a window by default, takes one up to 10 s, and names the key past that", () => {
    expect(daemonConfig().upload.announceWindow).toBe(0);
    expect(parseConfig(daemonConfigSchema, { upload: { announceWindow: "250ms" } }, "dfdaemon").upload.announceWindow).toBe(250);
    for (const bad of ["11s", "1h", "-1s", "soon"]) {
      expect(() => parseConfig(daemonConfigSchema, { upload: { announceWindow: bad } }, "dfdaemon")).toThrow(/upload\.announceWindow/);
    }
  });

  it("has a default for every key", () => {
    const config = daemonConfig();
    expect(config.host).toMatchObject({ hostname: os.hostname(), ip: "127.0.0.1", idc: "", location: "" });
    expect(config.seedPeer.enable).toBe(false);
    expect(config.scheduler).toMatchObject({ addresses: ["127.0.0.1:8002"], announceInterval: 30_000, maxReschedules: 5 });
    expect(config.download).toMatchObject({
      socket: "/run/df/dfdaemon.sock",
      concurrentPieceCount: 8,
      pieceTimeout: 30_000,
      backToSourceConcurrency: 4,
      revalidate: "always",
      freshFor: 0,
    });
    expect(config.upload).toMatchObject({ listen: "0.0.0.0:4000", bytesListen: "0.0.0.0:4005", concurrencyLimit: 200 });
    expect(config.upload.rateLimit).toBeUndefined();
    expect(config.sources).toEqual(["http"]);
    expect(config.storage.gc).toMatchObject({ interval: 15 * 60_000, taskTtl: 30 * 24 * 3_600_000, highWatermarkPercent: 80, lowWatermarkPercent: 60 });
  });

  it("revalidates by default and bounds the freshness time, naming the key", () => {
    expect(daemonConfig({ download: { revalidate: "never", freshFor: "10m" } }).download).toMatchObject({ revalidate: "never", freshFor: 600_000 });
    expect(() => parseConfig(daemonConfigSchema, { download: { freshFor: "31d" } }, "dfdaemon")).toThrow(/download\.freshFor/);
    expect(() => parseConfig(daemonConfigSchema, { download: { revalidate: "sometimes" } }, "dfdaemon")).toThrow(/download\.revalidate/);
  });

  it("parses units", () => {
    const config = daemonConfig({ upload: { rateLimit: "100Mi" }, download: { stallTimeout: "1m" } });
    expect(config.upload.rateLimit).toBe(100 * 1024 * 1024);
    expect(config.download.stallTimeout).toBe(60_000);
  });

  it("shapes download bandwidth with plain by default, and takes familiar units for the limits", () => {
    const defaults = daemonConfig().download;
    expect(defaults).toMatchObject({ trafficShaperType: "plain", totalRateLimit: 1024 * 2 ** 20, perPeerRateLimit: 512 * 2 ** 20 });
    const config = daemonConfig({ download: { trafficShaperType: "sampling", totalRateLimit: "20M", perPeerRateLimit: "4Mi" } }).download;
    expect(config).toMatchObject({ trafficShaperType: "sampling", totalRateLimit: 20_000_000, perPeerRateLimit: 4 * 2 ** 20 });
    expect(() => parseConfig(daemonConfigSchema, { download: { totalRateLimit: 0 } }, "dfdaemon")).toThrow(
      /download\.totalRateLimit: must be more than 0, got 0/,
    );
    expect(() => parseConfig(daemonConfigSchema, { download: { perPeerRateLimit: "fast" } }, "dfdaemon")).toThrow(/download\.perPeerRateLimit/);
  });

  it("names the key of an unknown or bad value", () => {
    expect(() => parseConfig(daemonConfigSchema, { download: { concurentPieceCount: 4 } }, "dfdaemon")).toThrow(
      /download\.concurentPieceCount: unknown key \(did you mean "concurrentPieceCount"\?\)/,
    );
    expect(() => parseConfig(daemonConfigSchema, { scheduler: { announceInterval: "soon" } }, "dfdaemon")).toThrow(/scheduler\.announceInterval/);
    expect(() => parseConfig(daemonConfigSchema, { storage: { gc: { lowWatermarkPercent: 90 } } }, "dfdaemon")).toThrow(
      /storage\.gc\.lowWatermarkPercent: must be below highWatermarkPercent/,
    );
  });

  it("takes overrides from DF_DAEMON_ variables", async () => {
    const { config } = await loadConfig({
      schema: daemonConfigSchema,
      name: "dfdaemon",
      envPrefix: "DF_DAEMON_",
      env: { DF_DAEMON_SEED_PEER__ENABLE: "true", DF_DAEMON_DOWNLOAD__CONCURRENT_PIECE_COUNT: "16" },
    });
    expect(config.seedPeer.enable).toBe(true);
    expect(config.download.concurrentPieceCount).toBe(16);
  });

  it("uses no manager by default, and names the key of a bad manager address", () => {
    expect(daemonConfig().manager).toEqual({ addresses: [], refreshInterval: 30_000, schedulerClusterId: 0, seedPeerClusterId: 0, keepAliveInterval: 5000 });
    expect(daemonConfig({ manager: { addresses: ["127.0.0.1:65003"], refreshInterval: "10s" } }).manager).toMatchObject({ addresses: ["127.0.0.1:65003"], refreshInterval: 10_000 });
    expect(() => parseConfig(daemonConfigSchema, { manager: { addresses: ["127.0.0.1:65003", "manager"] } }, "dfdaemon")).toThrow(/manager\.addresses\.1: .*missing port/);
    expect(() => parseConfig(daemonConfigSchema, { manager: { addresses: ["/run/manager.sock"] } }, "dfdaemon")).toThrow(/manager\.addresses\.0: .*unix socket/);
    expect(() => parseConfig(daemonConfigSchema, { manager: { refreshInterval: 0 } }, "dfdaemon")).toThrow(/manager\.refreshInterval: must be at least 100ms, got 0/);
  });
});

describe("ranges of the daemon's durations and sizes", () => {
  it("gives every duration and size key a range, and refuses past it naming the key", () => {
    const keys = listUnitFields(daemonConfigSchema).map((f) => f.key);
    expect(keys).toEqual(expect.arrayContaining(["scheduler.announceInterval", "storage.gc.taskTtl", "storage.quota", "download.totalRateLimit", "upload.writeTimeout"]));
    expect(keys.length).toBeGreaterThanOrEqual(17);
    expect(unitRangeProblems(daemonConfigSchema, "dfdaemon")).toEqual([]);
  });

  it("keeps every duration a timer waits on within Node's timer limit (30d would fire at once)", () => {
    // Compared with clocks only, never put in a timer.
    const ttls = new Set(["storage.gc.taskTtl", "download.freshFor"]);
    for (const { key, field } of listUnitFields(daemonConfigSchema)) {
      if (field.kind === "duration" && !ttls.has(key)) expect(field.max, key).toBeLessThanOrEqual(2 ** 31 - 1);
    }
  });

  it("refuses announceInterval: 30d from a config file with an error that names the key, the limit and the file", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "df-config-"));
    try {
      const file = path.join(dir, "dfdaemon.yaml");
      await writeFile(file, "scheduler:\n  announceInterval: 30d\n");
      await expect(loadConfig({ schema: daemonConfigSchema, name: "dfdaemon", file })).rejects.toThrow(
        /scheduler\.announceInterval: must be at most 1h, got "30d" \(from file .*dfdaemon\.yaml\)/,
      );
      await writeFile(file, "download:\n  pieceTimeout: 25d\n");
      await expect(loadConfig({ schema: daemonConfigSchema, name: "dfdaemon", file })).rejects.toThrow(/download\.pieceTimeout: must be at most 1h/);
      await expect(loadConfig({ schema: daemonConfigSchema, name: "dfdaemon", env: { DF_DAEMON_STORAGE__QUOTA: "10Ki" }, envPrefix: "DF_DAEMON_" })).rejects.toThrow(
        /storage\.quota: must be at least 1Mi, got "10Ki"/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
