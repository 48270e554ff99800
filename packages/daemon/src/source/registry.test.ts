import { describe, expect, it } from "vitest";
import { definePlugin, noopLogger, type SourceClient } from "@df/interface";
import { SchemeSourceRegistry } from "./registry.js";

function client(name: string, schemes: string[]): SourceClient {
  return {
    name,
    schemes,
    stat: () => Promise.resolve({ supportsRange: false }),
    get: () => Promise.reject(new Error("not used")),
  };
}

describe("source registry", () => {
  it("resolves the built-in http plugin for http and https URLs", async () => {
    const registry = await SchemeSourceRegistry.fromConfig(["http"], { logger: noopLogger });
    try {
      expect(registry.forUrl("http://example.com/a").name).toBe("http");
      expect(registry.forUrl("HTTPS://example.com/a").name).toBe("http");
      expect(registry.schemes()).toEqual(expect.arrayContaining(["http", "https"]));
    } finally {
      await registry.close();
    }
  });

  it("lets the first plugin listed claim a scheme", () => {
    const registry = new SchemeSourceRegistry([client("mine", ["https"]), client("http", ["http", "https"])]);
    expect(registry.forUrl("https://x/y").name).toBe("mine");
    expect(registry.forUrl("http://x/y").name).toBe("http");
  });

  it("says which schemes are served when none fits", () => {
    const registry = new SchemeSourceRegistry([client("http", ["http", "https"])]);
    expect(() => registry.forUrl("htps://x/y")).toThrow(/no source plugin serves "htps:" URLs \(did you mean https:\?\); configured schemes: http, https/);
    expect(() => registry.forUrl("not a url")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("names the config key of a bad plugin entry", async () => {
    await expect(SchemeSourceRegistry.fromConfig(["htp"], { logger: noopLogger })).rejects.toThrow(/sources\.0: no source plugin named "htp" \(did you mean "http"\?\)/);
    const evaluator = definePlugin({ kind: "evaluator", name: "e", create: () => ({ name: "e", score: () => 0 }) });
    await expect(SchemeSourceRegistry.fromConfig([evaluator], { logger: noopLogger })).rejects.toThrow(/needs a source plugin/);
  });
});
