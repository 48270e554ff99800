import { afterEach, describe, expect, it, vi } from "vitest";
import { TokenBucket } from "./token-bucket.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A bucket on vitest's fake clock: timers and `now` move only when the test says. */
function fakeBucket(options: { rate: number; burst?: number; startFull?: boolean }): TokenBucket {
  vi.useFakeTimers();
  return new TokenBucket({ ...options, now: () => Date.now() });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("TokenBucket", () => {
  it("passes takes within the burst at once, with no timer", async () => {
    const bucket = fakeBucket({ rate: 10 * KiB, burst: 10 * KiB });
    await bucket.take(4 * KiB);
    await bucket.take(6 * KiB);
    expect(vi.getTimerCount()).toBe(0);
    expect(bucket.granted).toBe(10 * KiB);
  });

  it("holds 4 KiB/s to the byte: each 1 KiB take after the burst waits 250 ms", async () => {
    const bucket = fakeBucket({ rate: 4 * KiB, burst: KiB });
    const grantedAt: number[] = [];
    const start = Date.now();
    const takes = Array.from({ length: 9 }, () => bucket.take(KiB).then(() => grantedAt.push(Date.now() - start)));
    await vi.advanceTimersByTimeAsync(2100);
    await Promise.all(takes);
    expect(grantedAt).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
  });

  it("arms at most one timer however many callers wait", async () => {
    const bucket = fakeBucket({ rate: MiB, burst: 64 * KiB, startFull: false });
    const takes = Array.from({ length: 100 }, () => bucket.take(64 * KiB));
    expect(bucket.waiting).toBe(100);
    expect(vi.getTimerCount()).toBe(1);
    const spy = vi.spyOn(globalThis, "setTimeout");
    await vi.advanceTimersByTimeAsync(6300);
    await Promise.all(takes);
    // One wake-up per grant at most: nothing polls.
    expect(spy.mock.calls.length).toBeLessThanOrEqual(100);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("serves callers first come, first served", async () => {
    const bucket = fakeBucket({ rate: 1000, burst: 1000, startFull: false });
    const order: string[] = [];
    const big = bucket.take(1000).then(() => order.push("big"));
    const small = bucket.take(1).then(() => order.push("small"));
    await vi.advanceTimersByTimeAsync(1001);
    await Promise.all([big, small]);
    expect(order).toEqual(["big", "small"]);
  });

  it("lets a take larger than the burst through from a full bucket and makes the next wait out the debt", async () => {
    const bucket = fakeBucket({ rate: 1000, burst: 100 });
    await bucket.take(500);
    expect(bucket.tokens()).toBe(-400);
    let done = false;
    const next = bucket.take(100).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    await next;
    expect(done).toBe(true);
  });

  it("re-times waiters at once when the rate changes", async () => {
    const bucket = fakeBucket({ rate: 1000, burst: 1000, startFull: false });
    let done = false;
    const take = bucket.take(1000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(100);
    bucket.setRate(100_000);
    await vi.advanceTimersByTimeAsync(10);
    await take;
    expect(done).toBe(true);
    // A slower rate delays them just as well.
    bucket.setRate(100, 1000);
    const slow = bucket.take(1000);
    let slowDone = false;
    void slow.then(() => (slowDone = true));
    await vi.advanceTimersByTimeAsync(9000);
    expect(slowDone).toBe(false);
    await vi.advanceTimersByTimeAsync(1100);
    expect(slowDone).toBe(true);
  });

  it("takes nothing for an aborted wait and lets the next caller go", async () => {
    const bucket = fakeBucket({ rate: 1000, burst: 1000, startFull: false });
    const abort = new AbortController();
    const first = bucket.take(1000, abort.signal);
    const second = bucket.take(500);
    abort.abort();
    await expect(first).rejects.toMatchObject({ code: "CANCELLED" });
    let done = false;
    void second.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(501);
    expect(done).toBe(true);
    expect(bucket.waiting).toBe(0);
    await expect(bucket.take(1, AbortSignal.abort())).rejects.toMatchObject({ code: "CANCELLED" });
  });

  it("passes everything when unlimited, and checks its inputs", async () => {
    const bucket = new TokenBucket({ rate: Infinity });
    await bucket.take(10 * 1024 * MiB);
    expect(bucket.tryTake(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(() => new TokenBucket({ rate: 0 })).toThrow(/positive number of bytes per second/);
    expect(() => new TokenBucket({ rate: Number.NaN })).toThrow(/positive/);
    expect(() => new TokenBucket({ rate: 1, burst: -1 })).toThrow(/burst/);
    await expect(bucket.take(-1)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("rejects its waiters when closed", async () => {
    const bucket = new TokenBucket({ rate: 1, burst: 1, startFull: false });
    const take = bucket.take(1);
    bucket.close();
    await expect(take).rejects.toMatchObject({ code: "CANCELLED", reason: "limiter-closed" });
  });

  it("holds 1 GiB/s on the real clock within 5 %", async () => {
    const rate = 1024 * MiB;
    const burst = 16 * MiB;
    const bucket = new TokenBucket({ rate, burst, startFull: false });
    const started = performance.now();
    const piece = 4 * MiB;
    const pieces = 128; // half a second's worth
    await Promise.all(Array.from({ length: pieces }, () => bucket.take(piece)));
    const seconds = (performance.now() - started) / 1000;
    const measured = (pieces * piece) / seconds;
    expect(measured).toBeLessThanOrEqual(rate * 1.05);
    expect(measured).toBeGreaterThanOrEqual(rate * 0.95);
  });
});

describe("TokenBucket.busyMs", () => {
  it("counts the time someone waited, and nothing while idle", async () => {
    const bucket = fakeBucket({ rate: 1000, burst: 1000, startFull: false });
    await vi.advanceTimersByTimeAsync(2000);
    expect(bucket.busyMs()).toBe(0);
    await bucket.take(1000); // the bucket refilled meanwhile: no wait
    const take = bucket.take(500);
    await vi.advanceTimersByTimeAsync(200);
    expect(bucket.busyMs()).toBe(200);
    await vi.advanceTimersByTimeAsync(400);
    await take;
    expect(bucket.busyMs()).toBe(500);
  });
});
