import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startOriginServer, type OriginServer } from "@df/compliance-tests";
import { createHttpSource } from "@df/source-http";
import { Storage } from "@df/storage";
import { fetchPiecesFromSource } from "./fetch-pieces.js";

const MiB = 1024 * 1024;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(origin: OriginServer, pieces: number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dfd-ramp-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const storage = await Storage.open({ dir, directIO: false, gc: { intervalMs: 0 } });
  cleanups.push(() => storage.close());
  const url = origin.publish("/ramp.bin", { size: pieces * MiB, seed: 5 });
  const task = await storage.createTask({ taskId: "a".repeat(64), contentLength: pieces * MiB, pieceLength: MiB, url });
  const client = createHttpSource({ destinations: { allow: ["127.0.0.0/8"] } });
  cleanups.push(() => client.close());
  return { task, client, url };
}

describe("ranged fetches from the origin", () => {
  it("land pieces one after another from the start, not all together after a whole round", async () => {
    // 4 MiB/s: a round of four 1 MiB pieces at once would take about a second.
    const origin = await startOriginServer({ uploadBytesPerSecond: 4 * MiB });
    cleanups.push(() => origin.close());
    const { task, client, url } = await setup(origin, 4);
    const started = performance.now();
    const landed: number[] = [];
    await fetchPiecesFromSource({
      task,
      client,
      request: { url, header: {} },
      supportsRange: true,
      wanted: () => [0, 1, 2, 3],
      concurrency: 4,
      retries: 0,
      onPiece: () => landed.push(performance.now() - started),
    });
    expect(landed).toHaveLength(4);
    // Four at once would land together near the end; ramped, the first is in well before the last.
    expect(landed[0]!).toBeLessThan(0.6 * landed[3]!);
    expect(origin.stats("/ramp.bin").bytesServed).toBeLessThanOrEqual(4 * MiB);
  });
});
