import { describe, expect, it } from "vitest";
import { coalesce } from "./fetch-pieces.js";

async function* chunksOf(...lengths: number[]): AsyncGenerator<Uint8Array> {
  let next = 0;
  for (const length of lengths) {
    const chunk = new Uint8Array(length);
    for (let i = 0; i < length; i++) chunk[i] = next++ & 0xff;
    yield chunk;
  }
}

/** Copies each run as it comes: coalesce reuses its buffer for the next one. */
async function runs(source: AsyncIterable<Uint8Array>, size: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const run of coalesce(source, size)) out.push(Uint8Array.from(run));
  return out;
}

function joined(parts: Uint8Array[]): number[] {
  return parts.flatMap((part) => [...part]);
}

describe("coalesce", () => {
  it("regroups small reads into runs of the given size, bytes in order, the last run short", async () => {
    const out = await runs(chunksOf(3, 5, 1, 10), 4);
    expect(out.map((run) => run.byteLength)).toEqual([4, 4, 4, 4, 3]);
    expect(joined(out)).toEqual(Array.from({ length: 19 }, (_, i) => i));
  });

  it("passes a read as large as a run through when nothing waits before it", async () => {
    const out = await runs(chunksOf(8, 2, 8), 4);
    expect(out.map((run) => run.byteLength)).toEqual([8, 4, 4, 2]);
    expect(joined(out)).toEqual(Array.from({ length: 18 }, (_, i) => i));
  });

  it("yields nothing for an empty source", async () => {
    expect(await runs(chunksOf(), 4)).toEqual([]);
  });
});
