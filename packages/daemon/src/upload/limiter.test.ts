import { describe, expect, it } from "vitest";
import { UploadLimiter, type UploadSlot } from "./limiter.js";
import { settled } from "./test-support/settled.js";

describe("UploadLimiter.setLimit", () => {
  it("a higher limit admits queued uploads at once", async () => {
    const limiter = new UploadLimiter({ concurrency: 1, queueTimeoutMs: 5000 });
    const first = await limiter.acquire();
    const queued = [limiter.acquire(), limiter.acquire()];
    expect(await settled(queued[0]!)).toBe(false);
    limiter.setLimit(3);
    expect(limiter.limit).toBe(3);
    const slots = await Promise.all(queued);
    expect(limiter.active).toBe(3);
    for (const slot of [first, ...slots]) slot.release(true);
    expect(limiter.active).toBe(0);
    expect(limiter.load().concurrentUploadLimit).toBe(3);
  });

  it("under a lower limit, running uploads finish and queued ones wait until fewer than the limit run", async () => {
    const limiter = new UploadLimiter({ concurrency: 3, queueTimeoutMs: 5000 });
    const running: UploadSlot[] = await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    limiter.setLimit(1);
    const queued = limiter.acquire();
    running[0]!.release(true);
    running[1]!.release(true);
    expect(await settled(queued)).toBe(false);
    expect(limiter.active).toBe(1);
    running[2]!.release(true);
    const slot = await queued;
    expect(limiter.active).toBe(1);
    slot.release(true);
    expect(limiter.active).toBe(0);
    expect(() => limiter.setLimit(0)).toThrow(/positive integer/);
  });
});
