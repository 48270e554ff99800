import { describe, expect, it } from "vitest";
import { uploadSuccessScore } from "./reliability.js";

describe("uploadSuccessScore", () => {
  it("is the share of uploads that did not fail", () => {
    expect(uploadSuccessScore({ uploadCount: 10, uploadFailedCount: 2 })).toBe(0.8);
    expect(uploadSuccessScore({ uploadCount: 4, uploadFailedCount: 0 })).toBe(1);
    expect(uploadSuccessScore({ uploadCount: 4, uploadFailedCount: 4 })).toBe(0);
  });

  it("gives a host that never uploaded the benefit of the doubt", () => {
    expect(uploadSuccessScore({ uploadCount: 0, uploadFailedCount: 0 })).toBe(1);
  });

  it("is 0 when failures outnumber uploads", () => {
    expect(uploadSuccessScore({ uploadCount: 5, uploadFailedCount: 9 })).toBe(0);
    expect(uploadSuccessScore({ uploadCount: 0, uploadFailedCount: 1 })).toBe(0);
  });

  it("stays in [0, 1] for huge and nonsense counters", () => {
    expect(uploadSuccessScore({ uploadCount: Number.MAX_SAFE_INTEGER, uploadFailedCount: 1e15 })).toBeCloseTo(1 - 1e15 / Number.MAX_SAFE_INTEGER, 12);
    expect(uploadSuccessScore({ uploadCount: Number.NaN, uploadFailedCount: 0 })).toBe(0);
  });
});
