import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
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
  it("sends what is ready at once in one batch, and what comes later in the next", async () => {
    const input = feed<number>();
    input.push(1, 2, 3, 4, 5);
    const batches = inBatches(input.source, 0, 100);
    expect((await batches.next()).value).toEqual([1, 2, 3, 4, 5]);
    const next = batches.next();
    await sleep(20);
    input.push(6);
    expect((await next).value).toEqual([6]);
    input.end();
    expect((await batches.next()).done).toBe(true);
  });

  it("gathers items arriving within the window after the first, and no later ones", async () => {
    const input = feed<number>();
    const collected = (async () => {
      const out: number[][] = [];
      for await (const batch of inBatches(input.source, 150, 100)) out.push(batch);
      return out;
    })();
    input.push(1);
    await sleep(30);
    input.push(2);
    await sleep(30);
    input.push(3);
    await sleep(400);
    input.push(4);
    await sleep(30);
    input.end();
    expect(await collected).toEqual([[1, 2, 3], [4]]);
  });

  it("cuts batches at the maximum", async () => {
    const input = feed<number>();
    input.push(...Array.from({ length: 10 }, (_, i) => i));
    input.end();
    const out: number[][] = [];
    for await (const batch of inBatches(input.source, 0, 4)) out.push(batch);
    expect(out).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  it("lets its reader stop early without waiting for the source, and closes the source once its read in progress settles", async () => {
    const input = feed<number>();
    input.push(1, 2);
    for await (const batch of inBatches(input.source, 0, 100)) {
      expect(batch).toEqual([1, 2]);
      break;
    }
    // A read was still waiting on the source: it is closed once that read ends.
    expect(input.state.closed).toBe(false);
    input.end();
    await sleep(10);
    expect(input.state.closed).toBe(true);
  });
});
