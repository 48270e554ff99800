import { DfError } from "@df/interface/errors";

/** Piece numbers are u32 on the wire (`common.v2.Piece.number`). */
export const MAX_PIECE_COUNT = 0xffff_ffff;

const POPCOUNT = new Uint8Array(256);
for (let byte = 1; byte < 256; byte++) POPCOUNT[byte] = (byte & 1) + (POPCOUNT[byte >> 1] ?? 0);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The finished pieces of a task with a known piece count, one bit each. Bits are
 * MSB-first (piece 0 is the high bit of byte 0), the BitTorrent bitfield layout, so the
 * bytes are readable in a hex dump. Trailing bits of the last byte are always zero,
 * which `fromBytes` insists on, so two equal sets always have equal bytes.
 */
export class PieceBitset {
  readonly #bits: Uint8Array;
  readonly #pieceCount: number;
  #size = 0;

  constructor(pieceCount: number) {
    if (!Number.isSafeInteger(pieceCount) || pieceCount < 0 || pieceCount > MAX_PIECE_COUNT) {
      throw new DfError(
        "INVALID_ARGUMENT",
        `piece count must be an integer from 0 to ${MAX_PIECE_COUNT}, got ${String(pieceCount)}`,
        { details: { pieceCount } },
      );
    }
    this.#pieceCount = pieceCount;
    this.#bits = new Uint8Array(Math.ceil(pieceCount / 8));
  }

  get pieceCount(): number {
    return this.#pieceCount;
  }

  /** How many pieces are set, kept up to date on every change. */
  get size(): number {
    return this.#size;
  }

  /** Marks piece `n` finished; returns false when it already was. */
  set(n: number): boolean {
    this.#check(n);
    const mask = 0x80 >> (n & 7);
    const index = n >>> 3;
    const byte = this.#bits[index] ?? 0;
    if (byte & mask) return false;
    this.#bits[index] = byte | mask;
    this.#size++;
    return true;
  }

  has(n: number): boolean {
    this.#check(n);
    return ((this.#bits[n >>> 3] ?? 0) & (0x80 >> (n & 7))) !== 0;
  }

  /** Forgets piece `n` (e.g. after it failed verification); returns whether it was set. */
  delete(n: number): boolean {
    this.#check(n);
    const mask = 0x80 >> (n & 7);
    const index = n >>> 3;
    const byte = this.#bits[index] ?? 0;
    if (!(byte & mask)) return false;
    this.#bits[index] = byte & ~mask;
    this.#size--;
    return true;
  }

  /** True when every piece is set; an empty task (0 pieces) is complete. */
  isComplete(): boolean {
    return this.#size === this.#pieceCount;
  }

  /** Piece numbers not yet set, ascending. */
  *missing(): Generator<number, void, undefined> {
    yield* this.#scan(false, 0);
  }

  /** Piece numbers set, ascending. */
  *present(): Generator<number, void, undefined> {
    yield* this.#scan(true, 0);
  }

  /** The lowest unset piece number at or after `from`, or undefined if there is none. */
  firstMissing(from = 0): number | undefined {
    if (!Number.isSafeInteger(from) || from < 0 || from > this.#pieceCount) {
      throw new DfError(
        "OUT_OF_RANGE",
        `firstMissing(${String(from)}) is outside the ${this.#pieceCount} pieces; start from 0 to ${this.#pieceCount}`,
        { details: { from, pieceCount: this.#pieceCount } },
      );
    }
    const next = this.#scan(false, from).next();
    return next.done ? undefined : next.value;
  }

  /** A copy of the bits, ceil(pieceCount / 8) bytes. */
  toBytes(): Uint8Array {
    return this.#bits.slice();
  }

  toBase64(): string {
    return Buffer.from(this.#bits.buffer, this.#bits.byteOffset, this.#bits.byteLength).toString("base64");
  }

  clone(): PieceBitset {
    const copy = new PieceBitset(this.#pieceCount);
    copy.#bits.set(this.#bits);
    copy.#size = this.#size;
    return copy;
  }

  static fromBytes(bytes: Uint8Array, pieceCount: number): PieceBitset {
    const set = new PieceBitset(pieceCount);
    const expected = set.#bits.byteLength;
    if (bytes.byteLength !== expected) {
      throw new DfError(
        "INVALID_ARGUMENT",
        `a bitset of ${pieceCount} pieces is ${expected} byte(s), got ${bytes.byteLength}; the bytes belong to a task of another piece count`,
        { details: { pieceCount, expected, actual: bytes.byteLength } },
      );
    }
    const spare = expected * 8 - pieceCount;
    if (spare > 0 && ((bytes[expected - 1] ?? 0) & ((1 << spare) - 1)) !== 0) {
      throw new DfError(
        "INVALID_ARGUMENT",
        `bitset bytes mark pieces at or past ${pieceCount}, but the task has only ${pieceCount} pieces; the bytes are corrupt or from another task`,
        { details: { pieceCount } },
      );
    }
    set.#bits.set(bytes);
    for (const byte of bytes) set.#size += POPCOUNT[byte] ?? 0;
    return set;
  }

  static fromBase64(text: string, pieceCount: number): PieceBitset {
    // Buffer.from skips characters that are not base64, which would hide corruption.
    if (!BASE64.test(text)) {
      const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
      throw new DfError("INVALID_ARGUMENT", `bitset "${shown}" is not padded base64; pass what toBase64() produced`, {
        details: { pieceCount, length: text.length },
      });
    }
    return PieceBitset.fromBytes(Buffer.from(text, "base64"), pieceCount);
  }

  *#scan(wanted: boolean, from: number): Generator<number, void, undefined> {
    // Whole bytes with nothing of interest (all set while looking for gaps, or all clear
    // while looking for pieces) are skipped eight pieces at a time.
    const skip = wanted ? 0x00 : 0xff;
    const count = this.#pieceCount;
    let n = from;
    while (n < count) {
      const byte = this.#bits[n >>> 3] ?? 0;
      if ((n & 7) === 0 && byte === skip) {
        n += 8;
        continue;
      }
      if (((byte & (0x80 >> (n & 7))) !== 0) === wanted) yield n;
      n++;
    }
  }

  #check(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n >= this.#pieceCount) {
      throw new DfError(
        "OUT_OF_RANGE",
        `piece ${String(n)} is outside this task's ${this.#pieceCount} piece(s); piece numbers run from 0 to ${this.#pieceCount - 1}`,
        { details: { number: n, pieceCount: this.#pieceCount } },
      );
    }
  }
}
