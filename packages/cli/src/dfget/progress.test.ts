import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Progress } from "./progress.js";

function capture(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (text: string) => writes.push(text) }, writes };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("dfget's progress", () => {
  it("redraws a terminal line every 250 ms from arriving bytes, with rate and ETA, before any piece finishes", () => {
    const { stream, writes } = capture(true);
    const progress = new Progress(true, stream);
    progress.start(8 * 2 ** 20);
    for (let tick = 1; tick <= 8; tick++) {
      progress.receiving(tick * 256 * 1024);
      vi.advanceTimersByTime(250);
    }
    // One draw at start, then one per tick.
    expect(writes.length).toBe(9);
    const last = writes.at(-1)!;
    expect(last.startsWith("\r\x1b[K")).toBe(true);
    expect(last).toContain("25% (2.0 MiB of 8.0 MiB, 1.0 MiB/s, ETA 6 s)");
    progress.finish("saved out.bin");
    expect(writes.at(-1)).toMatch(/^dfget: saved out\.bin \(0 B in .*; nothing transferred\)\n$/);
  });

  it("prints one plain line every 3 s when stderr is not a terminal", () => {
    const { stream, writes } = capture(false);
    const progress = new Progress(true, stream);
    progress.start(300);
    vi.advanceTimersByTime(2900);
    expect(writes).toEqual([]);
    progress.advance(100, "origin");
    vi.advanceTimersByTime(200);
    expect(writes).toEqual([expect.stringMatching(/^dfget: 33% \(100 B of 300 B, .*\)\n$/)]);
    vi.advanceTimersByTime(3000);
    expect(writes.length).toBe(2);
    progress.advance(200, "peers");
    progress.finish("saved small.bin");
    expect(writes.at(-1)).toMatch(/^dfget: saved small\.bin \(300 B in [\d.]+ s, .*B\/s; from origin 100 B, peers 200 B\)\n$/);
  });

  it("does not count a finished piece twice while its arriving bytes are still reported", () => {
    const { stream } = capture(false);
    const progress = new Progress(true, stream);
    progress.start(8 * 2 ** 20);
    progress.receiving(3 * 2 ** 20);
    progress.advance(4 * 2 ** 20, "origin");
    expect(progress.shown).toBe(4 * 2 ** 20);
    progress.abort();
  });

  it("says nothing but the summary with progress off", () => {
    const { stream, writes } = capture(true);
    const progress = new Progress(false, stream);
    progress.start(1000);
    progress.advance(1000, "local");
    vi.advanceTimersByTime(5000);
    expect(writes).toEqual([]);
    progress.finish("saved x");
    expect(writes).toEqual([expect.stringMatching(/^dfget: saved x \(1000 B in .*; from local 1000 B\)\n$/)]);
  });
});
