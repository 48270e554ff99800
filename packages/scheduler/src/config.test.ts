import os from "node:os";
import { describe, expect, it } from "vitest";
import { listUnitFields } from "@df/interface/zod";
import { loadConfig, parseConfig, unitRangeProblems } from "@df/service-kit";
import { schedulerConfigSchema } from "./config.js";

describe("scheduler config", () => {
  it("runs without a manager by default, with upstream's keepalive and refresh timings when one is set", () => {
    const config = schedulerConfigSchema.parse({});
    expect(config.manager).toEqual({ addresses: [], schedulerClusterId: 1, keepAliveInterval: 5000, configRefreshInterval: 60_000, features: ["schedule", "preheat"] });
    expect(config.host).toEqual({ hostname: os.hostname(), idc: "", location: "" });
    const set = schedulerConfigSchema.parse({ manager: { addresses: ["10.0.0.5:65003", "[::1]:65003"], keepAliveInterval: "2s" } });
    expect(set.manager).toMatchObject({ addresses: ["10.0.0.5:65003", "[::1]:65003"], keepAliveInterval: 2000 });
  });

  it("lets peers be each other's parents unless scheduling.allowCycles is false", () => {
    expect(schedulerConfigSchema.parse({}).scheduling.allowCycles).toBe(true);
    expect(schedulerConfigSchema.parse({ scheduling: { allowCycles: false } }).scheduling.allowCycles).toBe(false);
    expect(() => parseConfig(schedulerConfigSchema, { scheduling: { allowCycles: "no" } }, "scheduler")).toThrow(/scheduling\.allowCycles/);
  });

  it("names the key of a bad manager address or timing", () => {
    expect(() => parseConfig(schedulerConfigSchema, { manager: { addresses: ["manager.local"] } }, "scheduler")).toThrow(/manager\.addresses\.0: .*missing port/);
    expect(() => parseConfig(schedulerConfigSchema, { manager: { addresses: ["10.0.0.5:65003", "unix:/run/m.sock"] } }, "scheduler")).toThrow(
      /manager\.addresses\.1: .*unix socket/,
    );
    expect(() => parseConfig(schedulerConfigSchema, { manager: { keepAliveInterval: "soon" } }, "scheduler")).toThrow(/manager\.keepAliveInterval/);
    expect(() => parseConfig(schedulerConfigSchema, { manager: { schedulerClusterId: 0 } }, "scheduler")).toThrow(/manager\.schedulerClusterId/);
    expect(() => parseConfig(schedulerConfigSchema, { manager: { adresses: [] } }, "scheduler")).toThrow(/manager\.adresses: unknown key \(did you mean "addresses"\?\)/);
  });

  it("takes metricsListen as host:port or empty, and names the key of anything else", () => {
    expect(parseConfig(schedulerConfigSchema, { metricsListen: "" }, "scheduler").metricsListen).toBe("");
    expect(parseConfig(schedulerConfigSchema, { metricsListen: "[::1]:9000" }, "scheduler").metricsListen).toBe("[::1]:9000");
    expect(parseConfig(schedulerConfigSchema, { metricsListen: ":9000" }, "scheduler").metricsListen).toBe(":9000");
    for (const bad of ["metrics.local", "127.0.0.1", "127.0.0.1:port", "a:b:9000"]) {
      expect(() => parseConfig(schedulerConfigSchema, { metricsListen: bad }, "scheduler")).toThrow(/metricsListen: must be host:port/);
    }
  });

  it("takes preheat callers as IPs and CIDR blocks, and names the key of a bad one", () => {
    expect(parseConfig(schedulerConfigSchema, {}, "scheduler").preheat.allowedCallers).toEqual([]);
    expect(parseConfig(schedulerConfigSchema, { preheat: { allowedCallers: ["10.0.0.0/8", "fd00::9"] } }, "scheduler").preheat.allowedCallers).toEqual(["10.0.0.0/8", "fd00::9"]);
    expect(() => parseConfig(schedulerConfigSchema, { preheat: { allowedCallers: ["10.0.0.0/8", "manager.local"] } }, "scheduler")).toThrow(
      /preheat\.allowedCallers\.1: .*not an IP address or a CIDR block/,
    );
  });

  it("takes the manager from DF_SCHEDULER_ variables", async () => {
    const { config } = await loadConfig({
      schema: schedulerConfigSchema,
      name: "scheduler",
      envPrefix: "DF_SCHEDULER_",
      env: { DF_SCHEDULER_MANAGER__ADDRESSES: "[127.0.0.1:65003]", DF_SCHEDULER_MANAGER__KEEP_ALIVE_INTERVAL: "1s" },
    });
    expect(config.manager).toMatchObject({ addresses: ["127.0.0.1:65003"], keepAliveInterval: 1000 });
  });

  it("has a limit for each resource a caller can make the scheduler hold, and names the key of a bad one", () => {
    expect(schedulerConfigSchema.parse({}).limits).toEqual({
      maxHosts: 100_000,
      maxTasks: 100_000,
      maxPeers: 1_000_000,
      maxPeersPerTask: 20_000,
      maxTaskSize: 2 ** 40,
      maxPieceCount: 262_144,
      maxStringLength: 1024,
      maxUrlLength: 8192,
      maxHeaderBytes: 16_384,
      maxListLength: 256,
      maxSelfDeclaredSeeds: 64,
      announceRate: 200,
      announceBurst: 400,
      maxCallers: 100_000,
    });
    expect(parseConfig(schedulerConfigSchema, { limits: { maxHosts: 10, announceRate: 0.5 } }, "scheduler").limits).toMatchObject({ maxHosts: 10, announceRate: 0.5, maxTasks: 100_000 });
    expect(() => parseConfig(schedulerConfigSchema, { limits: { maxHosts: 0 } }, "scheduler")).toThrow(/limits\.maxHosts/);
    expect(() => parseConfig(schedulerConfigSchema, { limits: { announceRate: -1 } }, "scheduler")).toThrow(/limits\.announceRate/);
    expect(() => parseConfig(schedulerConfigSchema, { limits: { maxHost: 5 } }, "scheduler")).toThrow(/limits\.maxHost: unknown key/);
  });
});

describe("ranges of the scheduler's durations", () => {
  it("gives every duration key a range, and refuses past it naming the key", () => {
    const keys = listUnitFields(schedulerConfigSchema).map((f) => f.key);
    expect(keys).toEqual(expect.arrayContaining(["manager.keepAliveInterval", "gc.interval", "gc.peerTtl", "scheduling.retryInterval"]));
    expect(unitRangeProblems(schedulerConfigSchema, "scheduler")).toEqual([]);
    expect(() => parseConfig(schedulerConfigSchema, { gc: { interval: "30d" } }, "scheduler")).toThrow(
      /gc\.interval: must be at most 1h, got "30d"/,
    );
  });
});
