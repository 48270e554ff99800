import { randomBytes } from "node:crypto";
import { crc32 } from "@df/piece";
import { describe, expect, it } from "vitest";
import { crc32Combine } from "./crc-combine.js";

describe("crc32Combine", () => {
  it.each([
    [0, 10],
    [1, 1],
    [5, 0],
    [4096, 4097],
    [65_537, 3],
    [1_000_003, 777_777],
  ])("combines a %i-byte and a %i-byte part into the CRC of the whole", (a, b) => {
    const whole = randomBytes(a + b);
    const left = whole.subarray(0, a);
    const right = whole.subarray(a);
    expect(crc32Combine(crc32(left), crc32(right), b)).toBe(crc32(whole));
  });

  it("folds many pieces in order", () => {
    const pieces = Array.from({ length: 9 }, (_, i) => randomBytes(1000 + i * 313));
    let combined = 0;
    for (const piece of pieces) combined = crc32Combine(combined, crc32(piece), piece.length);
    expect(combined).toBe(crc32(Buffer.concat(pieces)));
  });
});
