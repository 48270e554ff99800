import { crc32 as zlibCrc32 } from "node:zlib";

/**
 * CRC-32 with the IEEE polynomial, as zlib and the Rust `crc32fast` crate compute it:
 * every Dragonfly v2 piece carries `crc32:<decimal>` of its bytes. Pass the previous
 * value to continue a checksum over a further chunk.
 */
export function crc32(data: Uint8Array, previous = 0): number {
  // zlib's crc32(crc, NULL, 0) returns the initial value 0, not `crc`; an empty view
  // with no backing store (e.g. TextEncoder's "") reaches zlib as NULL and would
  // silently reset a running checksum.
  if (data.byteLength === 0) return previous;
  return zlibCrc32(data, previous);
}

/** The piece digest string of `data`: `crc32:` then the unsigned value in decimal. */
export function crc32Digest(data: Uint8Array): string {
  return formatCrc32(crc32(data));
}

export function formatCrc32(value: number): string {
  return `crc32:${value}`;
}

/** A CRC-32 computed over chunks as they stream past, e.g. while a piece is written. */
export class Crc32 {
  #value = 0;

  update(chunk: Uint8Array): this {
    this.#value = crc32(chunk, this.#value);
    return this;
  }

  value(): number {
    return this.#value;
  }

  digest(): string {
    return formatCrc32(this.#value);
  }
}
