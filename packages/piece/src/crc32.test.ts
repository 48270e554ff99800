import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Crc32, crc32, crc32Digest } from "./crc32.js";

const text = (s: string) => new TextEncoder().encode(s);

describe("crc32", () => {
  it("is the IEEE CRC-32 (check value of 123456789)", () => {
    expect(crc32(text("123456789"))).toBe(0xcbf43926);
  });

  it("matches the Rust client's digest of 'test content'", () => {
    expect(crc32Digest(text("test content"))).toBe("crc32:1475635037");
  });

  it("is 0 for no bytes", () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32Digest(new Uint8Array(0))).toBe("crc32:0");
  });

  it("writes values above 2^31 as unsigned decimal", () => {
    expect(crc32Digest(text("123456789"))).toBe("crc32:3421780262");
  });

  it("continues from a previous value", () => {
    const data = randomBytes(10_000);
    expect(crc32(data.subarray(3000), crc32(data.subarray(0, 3000)))).toBe(crc32(data));
  });

  it("reads only the view it is given", () => {
    const whole = text("xx123456789yy");
    expect(crc32(whole.subarray(2, 11))).toBe(0xcbf43926);
  });
});

describe("Crc32", () => {
  it("equals the one-shot value over any chunking", () => {
    const data = randomBytes(100_003);
    const incremental = new Crc32();
    for (let i = 0; i < data.length; i += 4093) incremental.update(data.subarray(i, i + 4093));
    expect(incremental.value()).toBe(crc32(data));
    expect(incremental.digest()).toBe(crc32Digest(data));
  });

  it("starts at 0 and chains", () => {
    const c = new Crc32();
    expect(c.value()).toBe(0);
    expect(c.update(text("12345")).update(text("6789")).value()).toBe(0xcbf43926);
  });
});

describe("empty chunks", () => {
  it("leave a running checksum alone, even views without a backing store", () => {
    // TextEncoder's "" has no backing store; zlib sees NULL and would answer 0.
    const empty = new TextEncoder().encode("");
    const partial = crc32(text("12345"));
    expect(crc32(empty, partial)).toBe(partial);
    expect(new Crc32().update(text("12345")).update(empty).update(text("6789")).value()).toBe(0xcbf43926);
  });
});
