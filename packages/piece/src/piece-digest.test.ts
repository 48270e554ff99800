import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc32Digest } from "./crc32.js";
import { createDigester } from "./digest.js";
import { pieceDigestMatches, verifyPieceDigest } from "./piece-digest.js";
import { thrown } from "./test-support/errors.js";

const piece = randomBytes(64 * 1024 + 3);

describe("pieceDigestMatches", () => {
  it("is true for the right CRC-32 and false for any change", () => {
    const digest = crc32Digest(piece);
    expect(pieceDigestMatches(piece, digest)).toBe(true);
    const corrupt = Buffer.from(piece);
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] ?? 0) ^ 0x80;
    expect(pieceDigestMatches(corrupt, digest)).toBe(false);
    expect(pieceDigestMatches(piece.subarray(1), digest)).toBe(false);
  });

  it("also accepts SHA-2 digests", () => {
    expect(pieceDigestMatches(piece, createDigester("sha256").update(piece).digest())).toBe(true);
    expect(pieceDigestMatches(piece, createDigester("sha512").update(piece.subarray(1)).digest())).toBe(false);
  });

  it("throws for a digest it cannot read rather than calling it a mismatch", () => {
    expect(thrown(() => pieceDigestMatches(piece, "crc32:x")).code).toBe("INVALID_ARGUMENT");
  });
});

describe("verifyPieceDigest", () => {
  it("returns quietly for a good piece", () => {
    expect(() => verifyPieceDigest(piece, crc32Digest(piece), 7)).not.toThrow();
  });

  it("throws DATA_LOSS piece-digest-mismatch naming the piece", () => {
    const expected = crc32Digest(piece);
    const error = thrown(() => verifyPieceDigest(piece.subarray(0, 10), expected, 7));
    expect(error.code).toBe("DATA_LOSS");
    expect(error.reason).toBe("piece-digest-mismatch");
    expect(error.details).toMatchObject({ pieceNumber: 7, expected, actual: crc32Digest(piece.subarray(0, 10)) });
    expect(error.message).toContain("piece 7");
  });
});
