import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { inBatches } from "./batches.js";

/** An async source fed by hand: push() items, end() it; records whether it was closed. */
function feed<T>() {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const state = { closed: false };
  async function* source(): AsyncGenerator<T, void, undefined> {
    try {
      for (;;) {
        const item = queue.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      state.closed = true;
    }
  }
  return {
    source: source(),
    state,
    push: (...items: T[]) => {
      queue.push(...items);
      wake?.();
    },
    end: () => {
      ended = true;
      wake?.();
    },
  };
}

describe("inBatches", () => {
  // The window is timer-driven: fake timers make each step exact instead of racing real time.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends what is ready at once in one batch, and what comes later in the next", async () => {
    const input = feed<number>();
    input.push(1, 2, 3, 4, 5);
    const batches = inBatches(input.source, 0, 100);
    const first = batches.next();
    await vi.advanceTimersByTimeAsync(0);
    expect((await first).value).toEqual([1, 2, 3, 4, 5]);
    const next = batches.next();
    await vi.advanceTimersByTimeAsync(20);
    input.push(6);
    await vi.advanceTimersByTimeAsync(0);
    expect((await next).value).toEqual([6]);
    input.end();
    expect((await batches.next()).done).toBe(true);
  });

  it("sends the opening batch without waiting out the window, then gathers what arrives within the window after each first item", async () => {
    const input = feed<number>();
    input.push(0);
    const out: number[][] = [];
    const reading = (async () => {
      for await (const batch of inBatches(input.source, 150, 100)) out.push(batch);
    })();
    await vi.advanceTimersByTimeAsync(0);
    expect(out).toEqual([[0]]);
    input.push(1);
    await vi.advanceTimersByTimeAsync(30);
    input.push(2);
    await vi.advanceTimersByTimeAsync(30);
    input.push(3);
    await vi.advanceTimersByTimeAsync(89);
    expect(out).toEqual([[0]]); // 149 ms after 1: the window is still open
    await vi.advanceTimersByTimeAsync(1);
    expect(out).toEqual([[0], [1, 2, 3]]);
    input.push(4);
    await vi.advanceTimersByTimeAsync(150);
    input.end();
    await reading;
    expect(out).toEqual([[0], [1, 2, 3], [4]]);
  });

  it("cuts batches at the maximum", async () => {
    const input = feed<number>();
    input.push(...Array.from({ length: 10 }, (_, i) => i));
    input.end();
    const out: number[][] = [];
    const reading = (async () => {
      for await (const batch of inBatches(input.source, 0, 4)) out.push(batch);
    })();
    await vi.runAllTimersAsync();
    await reading;
    expect(out).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  it("lets its reader stop early without waiting for the source, and closes the source once its read in progress settles", async () => {
    const input = feed<number>();
    input.push(1, 2);
    const batches = inBatches(input.source, 0, 100);
    const first = batches.next();
    await vi.advanceTimersByTimeAsync(0);
    expect((await first).value).toEqual([1, 2]);
    await batches.return(undefined);
    // A read was still waiting on the source: it is closed once that read ends.
    expect(input.state.closed).toBe(false);
    input.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(input.state.closed).toBe(true);
  });
});
