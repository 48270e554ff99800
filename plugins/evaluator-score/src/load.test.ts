import { describe, expect, it } from "vitest";
import { freeBandwidthShare, freeSlotShare, freeUploadScore, type LoadView } from "./load.js";

const host = (overrides: Partial<LoadView>): LoadView => ({
  maxTxBandwidth: 0,
  txBandwidth: 0,
  concurrentUploadLimit: 0,
  concurrentUploadCount: 0,
  ...overrides,
});

describe("freeUploadScore", () => {
  it("uses the free share of bandwidth when only the bandwidth is known", () => {
    expect(freeUploadScore(host({ maxTxBandwidth: 1000, txBandwidth: 250 }))).toBe(0.75);
    expect(freeUploadScore(host({ maxTxBandwidth: 1000 }))).toBe(1);
  });

  it("uses the free share of upload slots when only the slot limit is known", () => {
    expect(freeUploadScore(host({ concurrentUploadLimit: 200, concurrentUploadCount: 50 }))).toBe(0.75);
    expect(freeUploadScore(host({ concurrentUploadLimit: 200, txBandwidth: 5e9 }))).toBe(1);
  });

  it("takes the scarcer of the two when both are known", () => {
    const busySlots = host({ maxTxBandwidth: 1000, txBandwidth: 100, concurrentUploadLimit: 10, concurrentUploadCount: 5 });
    expect(freeUploadScore(busySlots)).toBe(0.5);
    const busyLink = host({ maxTxBandwidth: 1000, txBandwidth: 800, concurrentUploadLimit: 10, concurrentUploadCount: 1 });
    expect(freeUploadScore(busyLink)).toBeCloseTo(0.2, 12);
  });

  it("is 0 when nothing is known or the host is past its limits", () => {
    expect(freeUploadScore(host({}))).toBe(0);
    expect(freeUploadScore(host({ maxTxBandwidth: 1000, txBandwidth: 3000 }))).toBe(0);
    expect(freeUploadScore(host({ concurrentUploadLimit: 10, concurrentUploadCount: 50 }))).toBe(0);
    expect(freeUploadScore(host({ maxTxBandwidth: 1000, concurrentUploadLimit: 10, concurrentUploadCount: 10 }))).toBe(0);
  });

  it("stays in [0, 1] at the float limits and for nonsense counters", () => {
    expect(freeUploadScore(host({ maxTxBandwidth: Number.MAX_VALUE, txBandwidth: -Number.MAX_VALUE }))).toBe(1);
    expect(freeUploadScore(host({ maxTxBandwidth: Number.MAX_VALUE, txBandwidth: Number.MAX_VALUE }))).toBe(0);
    expect(freeUploadScore(host({ maxTxBandwidth: Number.NaN, concurrentUploadLimit: 4, concurrentUploadCount: 1 }))).toBe(0.75);
    expect(freeUploadScore(host({ maxTxBandwidth: 100, txBandwidth: Number.NaN }))).toBe(0);
  });
});

describe("the two shares", () => {
  it("are undefined when their capacity is not stated", () => {
    expect(freeBandwidthShare(host({ txBandwidth: 10 }))).toBeUndefined();
    expect(freeSlotShare(host({ concurrentUploadCount: 3 }))).toBeUndefined();
    expect(freeSlotShare(host({ concurrentUploadLimit: -1 }))).toBeUndefined();
  });
});
