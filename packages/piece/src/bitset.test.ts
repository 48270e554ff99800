import { describe, expect, it } from "vitest";
import { MAX_PIECE_COUNT, PieceBitset } from "./bitset.js";
import { thrown } from "./test-support/errors.js";

describe("PieceBitset", () => {
  it.each([0, 1, 7, 8, 9, 15, 16, 17, 500, 1021])("tracks every piece of a %i-piece task", (count) => {
    const set = new PieceBitset(count);
    expect(set.pieceCount).toBe(count);
    expect(set.size).toBe(0);
    expect(set.isComplete()).toBe(count === 0);
    expect([...set.missing()]).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(set.toBytes().byteLength).toBe(Math.ceil(count / 8));
    for (let n = count - 1; n >= 0; n--) {
      expect(set.isComplete()).toBe(false);
      expect(set.set(n)).toBe(true);
      expect(set.has(n)).toBe(true);
    }
    expect(set.size).toBe(count);
    expect(set.isComplete()).toBe(true);
    expect([...set.missing()]).toEqual([]);
    expect([...set.present()]).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(set.firstMissing()).toBeUndefined();
  });

  it("reports whether set and delete changed anything, keeping size exact", () => {
    const set = new PieceBitset(10);
    expect(set.set(3)).toBe(true);
    expect(set.set(3)).toBe(false);
    expect(set.size).toBe(1);
    expect(set.delete(4)).toBe(false);
    expect(set.delete(3)).toBe(true);
    expect(set.delete(3)).toBe(false);
    expect(set.size).toBe(0);
    expect(set.has(3)).toBe(false);
  });

  it("lists present and missing pieces in order across byte edges", () => {
    const set = new PieceBitset(20);
    for (const n of [0, 7, 8, 15, 16, 19]) set.set(n);
    expect([...set.present()]).toEqual([0, 7, 8, 15, 16, 19]);
    expect([...set.missing()]).toEqual([1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 17, 18]);
  });

  it("finds the first missing piece from a starting point", () => {
    const set = new PieceBitset(20);
    for (let n = 0; n < 17; n++) set.set(n);
    expect(set.firstMissing()).toBe(17);
    expect(set.firstMissing(17)).toBe(17);
    expect(set.firstMissing(18)).toBe(18);
    set.set(18);
    expect(set.firstMissing(18)).toBe(19);
    set.set(17);
    set.set(19);
    expect(set.firstMissing()).toBeUndefined();
    set.delete(5);
    expect(set.firstMissing()).toBe(5);
    expect(set.firstMissing(6)).toBeUndefined();
    expect(set.firstMissing(20)).toBeUndefined();
  });

  it("lays bits out MSB-first and leaves the spare bits zero", () => {
    const set = new PieceBitset(10);
    set.set(0);
    set.set(9);
    expect([...set.toBytes()]).toEqual([0x80, 0x40]);
    set.set(8);
    set.set(1);
    expect([...set.toBytes()]).toEqual([0xc0, 0xc0]);
  });

  it("round-trips through bytes and base64", () => {
    const set = new PieceBitset(13);
    for (const n of [0, 2, 5, 8, 12]) set.set(n);
    const fromBytes = PieceBitset.fromBytes(set.toBytes(), 13);
    expect([...fromBytes.present()]).toEqual([0, 2, 5, 8, 12]);
    expect(fromBytes.size).toBe(5);
    const text = set.toBase64();
    expect(text).toBe(Buffer.from(set.toBytes()).toString("base64"));
    const fromText = PieceBitset.fromBase64(text, 13);
    expect([...fromText.present()]).toEqual([0, 2, 5, 8, 12]);
    expect(fromText.size).toBe(5);
    expect(PieceBitset.fromBase64("", 0).pieceCount).toBe(0);
  });

  it("copies bytes in and out, so callers cannot alias its state", () => {
    const bytes = new Uint8Array([0xff]);
    const set = PieceBitset.fromBytes(bytes, 8);
    bytes[0] = 0;
    expect(set.size).toBe(8);
    const out = set.toBytes();
    out[0] = 0;
    expect(set.has(0)).toBe(true);
  });

  it("clones independently", () => {
    const a = new PieceBitset(9);
    a.set(8);
    const b = a.clone();
    b.set(0);
    a.delete(8);
    expect([...a.present()]).toEqual([]);
    expect([...b.present()]).toEqual([0, 8]);
    expect(b.size).toBe(2);
  });

  it("refuses bytes of the wrong length or with spare bits set", () => {
    const short = thrown(() => PieceBitset.fromBytes(new Uint8Array(1), 9));
    expect(short.code).toBe("INVALID_ARGUMENT");
    expect(short.message).toContain("2 byte(s), got 1");
    expect(thrown(() => PieceBitset.fromBytes(new Uint8Array(3), 9)).code).toBe("INVALID_ARGUMENT");
    const spare = thrown(() => PieceBitset.fromBytes(new Uint8Array([0, 0x01]), 9));
    expect(spare.code).toBe("INVALID_ARGUMENT");
    expect(PieceBitset.fromBytes(new Uint8Array([0, 0x80]), 9).has(8)).toBe(true);
  });

  it.each(["not base64!", "AAA", "A===", "QQ"])("refuses the base64 text %j", (text) => {
    expect(thrown(() => PieceBitset.fromBase64(text, 8)).code).toBe("INVALID_ARGUMENT");
  });

  it("refuses out-of-range and fractional piece numbers", () => {
    const set = new PieceBitset(9);
    for (const op of [(n: number) => set.set(n), (n: number) => set.has(n), (n: number) => set.delete(n)]) {
      for (const n of [-1, 9, 1.5, Number.NaN]) {
        const error = thrown(() => op(n));
        expect(error.code).toBe("OUT_OF_RANGE");
        expect(error.message).toContain("0 to 8");
      }
    }
    expect(thrown(() => set.firstMissing(10)).code).toBe("OUT_OF_RANGE");
    expect(thrown(() => set.firstMissing(-1)).code).toBe("OUT_OF_RANGE");
    expect(thrown(() => new PieceBitset(0).has(0)).code).toBe("OUT_OF_RANGE");
  });

  it("refuses an impossible piece count", () => {
    for (const count of [-1, 1.5, MAX_PIECE_COUNT + 1, Number.NaN]) {
      expect(thrown(() => new PieceBitset(count)).code).toBe("INVALID_ARGUMENT");
    }
  });

  it("handles a large task quickly", () => {
    const count = 1_000_003;
    const set = new PieceBitset(count);
    for (let n = 0; n < count; n++) set.set(n);
    set.delete(999_999);
    expect(set.size).toBe(count - 1);
    expect(set.firstMissing()).toBe(999_999);
    expect([...set.missing()]).toEqual([999_999]);
  });
});
