import { describe, expect, it } from "vitest";
import { ChunkPool } from "./chunk-pool.js";

describe("ChunkPool", () => {
  it("hands back the buffers it was given, keeps at most `keep` of them, and only of its size", () => {
    const pool = new ChunkPool(1024, 2);
    const a = pool.take();
    const b = pool.take();
    const c = pool.take();
    expect([a, b, c].every((buffer) => buffer.byteLength === 1024)).toBe(true);
    pool.give(a);
    pool.give(b);
    pool.give(c);
    pool.give(Buffer.alloc(10));
    expect(pool.idle).toBe(2);
    expect([pool.take(), pool.take()]).toEqual(expect.arrayContaining([a, b]));
    expect(pool.idle).toBe(0);
  });
});
