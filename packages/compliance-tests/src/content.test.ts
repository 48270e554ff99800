import { describe, expect, it } from "vitest";
import { contentChunks, contentSlice, fillContent, generateContent } from "./content.js";

describe("generateContent", () => {
  it("is deterministic", () => {
    expect(Buffer.from(generateContent(1, 0, 10_000)).equals(Buffer.from(generateContent(1, 0, 10_000)))).toBe(true);
  });

  it("produces any slice on its own, equal to the same bytes of a larger slice", () => {
    const whole = Buffer.from(generateContent(42, 0, 100_000));
    for (const [offset, length] of [
      [0, 1],
      [1, 4095],
      [4095, 2],
      [4096, 4096],
      [12_345, 54_321],
      [99_999, 1],
    ] as const) {
      expect(Buffer.from(generateContent(42, offset, length)).equals(whole.subarray(offset, offset + length))).toBe(true);
    }
  });

  it("differs between seeds and between blocks", () => {
    expect(Buffer.from(generateContent(1, 0, 4096)).equals(Buffer.from(generateContent(2, 0, 4096)))).toBe(false);
    expect(Buffer.from(generateContent(1, 0, 4096)).equals(Buffer.from(generateContent(1, 4096, 4096)))).toBe(false);
    // A slice shifted by one byte must not match: catches off-by-one ranges.
    expect(Buffer.from(generateContent(1, 100, 1000)).equals(Buffer.from(generateContent(1, 101, 1000)))).toBe(false);
  });

  it("works far beyond 4 GiB", () => {
    const offset = 5 * 2 ** 40 + 12_345;
    const slice = Buffer.from(generateContent(9, offset, 8192));
    expect(Buffer.from(generateContent(9, offset + 100, 100)).equals(slice.subarray(100, 200))).toBe(true);
  });

  it("accepts seeds beyond 32 bits and tells them apart", () => {
    expect(Buffer.from(generateContent(2 ** 40 + 1, 0, 64)).equals(Buffer.from(generateContent(1, 0, 64)))).toBe(false);
  });

  it("rejects negative or fractional slices", () => {
    expect(() => generateContent(1, -1, 10)).toThrow(RangeError);
    expect(() => generateContent(1, 0, 1.5)).toThrow(RangeError);
    expect(() => generateContent(1.5, 0, 1)).toThrow(RangeError);
  });

  it("fillContent writes the same bytes into a caller's array", () => {
    const target = new Uint8Array(5000);
    fillContent(3, 777, target);
    expect(Buffer.from(target).equals(Buffer.from(generateContent(3, 777, 5000)))).toBe(true);
  });

  it("is fast enough to feed a benchmark (well over 500 MB/s)", () => {
    const target = Buffer.allocUnsafe(1 << 20);
    const started = process.hrtime.bigint();
    for (let i = 0; i < 256; i++) fillContent(5, i * target.length, target);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(256 / seconds).toBeGreaterThan(500);
  });
});

describe("contentChunks and contentSlice", () => {
  it("cut generated content into chunks that join into the slice", () => {
    const content = { size: 1_000_000, seed: 8 };
    const chunks = [...contentChunks(content, 1000, 700_000, 65_536)];
    expect(chunks.every((chunk) => chunk.length <= 65_536)).toBe(true);
    expect(Buffer.concat(chunks).equals(Buffer.from(contentSlice(content, 1000, 700_000)))).toBe(true);
  });

  it("cut literal bytes without copying", () => {
    const content = new Uint8Array([1, 2, 3, 4, 5]);
    const [chunk] = [...contentChunks(content, 1, 3)];
    expect(chunk?.buffer).toBe(content.buffer);
    expect([...(chunk ?? [])]).toEqual([2, 3, 4]);
  });

  it("refuse slices past the end", () => {
    expect(() => [...contentChunks({ size: 10, seed: 1 }, 5, 6)]).toThrow(RangeError);
    expect(() => contentSlice(new Uint8Array(3), 2, 2)).toThrow(RangeError);
  });
});
