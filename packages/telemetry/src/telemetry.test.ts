import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { Metrics, serveMetrics } from "./metrics.js";

function collect(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stream, lines: () => chunks.join("").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("writes JSON lines with level, message, fields and a component per child", () => {
    const out = collect();
    const logger = createLogger({ name: "df:daemon", level: "debug", destination: out.stream, base: { host: "h1" } });
    logger.info("started", { port: 4000 });
    logger.child("storage").child("gc").debug("evicted", { task: "abc" });
    logger.trace("not at this level");
    const [first, second, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ level: "info", msg: "started", port: 4000, component: "df:daemon", host: "h1" });
    expect(second).toMatchObject({ level: "debug", msg: "evicted", task: "abc", component: "df:daemon:storage:gc", host: "h1" });
  });
});

describe("Metrics", () => {
  it("refuses names without the df_ prefix", () => {
    const metrics = new Metrics();
    expect(() => metrics.counter("requests_total", "x")).toThrow(/must match/);
  });

  it("keeps registries apart and serves them over HTTP", async () => {
    const a = new Metrics({ defaultLabels: { service: "a" } });
    const b = new Metrics();
    a.counter("df_storage_pieces_written_total", "Pieces written", ["source"]).inc({ source: "parent" }, 3);
    b.counter("df_storage_pieces_written_total", "Pieces written").inc();
    const server = await serveMetrics(a);
    try {
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      const body = await response.text();
      expect(body).toContain('df_storage_pieces_written_total{source="parent",service="a"} 3');
      expect((await fetch(`${server.url}/healthy`)).status).toBe(200);
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
    expect(await b.text()).toContain("df_storage_pieces_written_total 1");
  });
});
