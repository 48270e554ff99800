import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc32 as portable } from "@df/piece";
import { crc32, crc32Implementation } from "./crc.js";

describe("the store's CRC-32", () => {
  it("uses the SIMD implementation where its binary loads (linux x64 here)", () => {
    if (process.platform === "linux" && process.arch === "x64" && process.env.DF_PORTABLE_CRC32 !== "1") expect(crc32Implementation).toBe("native");
  });

  it("equals @df/piece's over any chunking, views with offsets and empty chunks", () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    expect(crc32(data)).toBe(portable(data));
    let running = 0;
    for (let i = 0; i < data.length; i += 65_521) running = crc32(data.subarray(i, i + 65_521), running);
    expect(running).toBe(portable(data));
    const view = new Uint8Array(data.buffer, data.byteOffset + 5, 1000);
    expect(crc32(view)).toBe(portable(view));
    expect(crc32(new TextEncoder().encode(""), 1234)).toBe(1234);
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0xffffffff)).toBe(portable(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0xffffffff));
  });
});
