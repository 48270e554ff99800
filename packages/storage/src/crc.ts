import { createRequire } from "node:module";
import { crc32 as portableCrc32 } from "@df/piece";

type Crc32 = (data: Uint8Array, previous?: number) => number;

/**
 * @internal CRC-32 (IEEE) of piece bytes, the same values as @df/piece's `crc32`. Uses
 * @node-rs/crc32 (crc32fast: PCLMULQDQ/NEON, ~25 GB/s) where its prebuilt binary loads,
 * else node:zlib's (~2 GB/s on Node 20, the biggest CPU cost of storing a piece).
 */
export const crc32: Crc32 = loadNative() ?? portableCrc32;

function loadNative(): Crc32 | undefined {
  if (process.env.DF_PORTABLE_CRC32 === "1") return undefined;
  try {
    const native = (createRequire(import.meta.url)("@node-rs/crc32") as { crc32: (data: Uint8Array, initial?: number) => number }).crc32;
    // Checked once against the portable one, so a broken binary can never store a wrong digest.
    const probe = Buffer.from("123456789");
    if (native(probe) !== 0xcbf43926 || native(probe.subarray(4), native(probe.subarray(0, 4))) !== 0xcbf43926) return undefined;
    return (data, previous = 0) => (data.byteLength === 0 ? previous : native(data, previous));
  } catch {
    return undefined;
  }
}

/** @internal Which implementation `crc32` is. */
export const crc32Implementation: "native" | "zlib" = crc32 === portableCrc32 ? "zlib" : "native";
