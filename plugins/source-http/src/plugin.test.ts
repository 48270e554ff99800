import { createRecordingLogger, isPluginDefinition, type SourceClient } from "@df/interface";
import { resolvePlugin } from "@df/service-kit";
import { describe, expect, it } from "vitest";
import plugin, { DEFAULT_USER_AGENT, HttpSourceClient, httpSourceOptionsSchema } from "./index.js";

describe("the http source plugin", () => {
  it("is a source plugin named http", () => {
    expect(isPluginDefinition(plugin)).toBe(true);
    expect(plugin.kind).toBe("source");
    expect(plugin.name).toBe("http");
  });

  it("fills every option with its default", () => {
    expect(httpSourceOptionsSchema.parse(undefined)).toEqual({
      connectTimeout: 10_000,
      headerTimeout: 30_000,
      bodyIdleTimeout: 30_000,
      keepAliveTimeout: 30_000,
      connectionsPerOrigin: 16,
      maxRedirects: 10,
      userAgent: DEFAULT_USER_AGENT,
      statRetries: 2,
      destinations: { allow: [] },
      tls: { insecure: false },
    });
  });

  it("resolves from config with durations written as text", async () => {
    const client = await resolvePlugin<"source">(
      ["http", { connectTimeout: "2s", headerTimeout: "1m", maxRedirects: 3, tls: { insecure: true } }],
      { kind: "source", key: "daemon.sources.0", builtins: { http: () => plugin }, logger: createRecordingLogger() },
    );
    try {
      expect(client).toBeInstanceOf(HttpSourceClient);
      expect((client as HttpSourceClient).options).toMatchObject({
        connectTimeout: 2000,
        headerTimeout: 60_000,
        maxRedirects: 3,
        tls: { insecure: true },
      });
    } finally {
      await (client as SourceClient).close?.();
    }
  });

  it("accepts 0 for the header and body idle timeouts (off) and fractional durations", async () => {
    const client = await resolvePlugin<"source">(["http", { headerTimeout: 0, bodyIdleTimeout: 0, connectTimeout: "1.5ms" }], {
      kind: "source",
      key: "daemon.sources.0",
      builtins: { http: () => plugin },
    });
    await client.close?.();
  });

  it.each([
    [{ maxRedirect: 3 }, "maxRedirect"],
    [{ maxRedirects: -1 }, "maxRedirects"],
    [{ connectTimeout: "soon" }, "connectTimeout"],
    [{ connectTimeout: 0 }, "connectTimeout"],
    [{ keepAliveTimeout: "0s" }, "keepAliveTimeout"],
    [{ tls: { verify: false } }, "verify"],
  ])("rejects bad options %o naming the key", async (options, key) => {
    await expect(
      resolvePlugin(["http", options], { kind: "source", key: "daemon.sources.0", builtins: { http: () => plugin } }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining(key) });
  });
});
