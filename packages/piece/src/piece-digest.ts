import { DfError } from "@df/interface/errors";
import { crc32 } from "./crc32.js";
import { createDigester, formatDigest, parseDigest } from "./digest.js";

function actualDigest(data: Uint8Array, digest: string): { expected: string; actual: string } {
  const parsed = parseDigest(digest);
  const expected = formatDigest(parsed);
  // Pieces are CRC-32 in practice; skip the digester object on that hot path.
  const actual =
    parsed.algorithm === "crc32"
      ? `crc32:${crc32(data)}`
      : createDigester(parsed.algorithm).update(data).digest();
  return { expected, actual };
}

/**
 * Whether `data` matches a piece digest (normally `crc32:<decimal>`). A digest that
 * cannot be parsed is an INVALID_ARGUMENT error, not a mismatch: it is a protocol bug,
 * not bad bytes.
 */
export function pieceDigestMatches(data: Uint8Array, digest: string): boolean {
  const { expected, actual } = actualDigest(data, digest);
  return expected === actual;
}

/**
 * Throws DATA_LOSS (reason `piece-digest-mismatch`) unless `data` matches `digest`; a
 * piece that fails this must never be stored or served.
 */
export function verifyPieceDigest(data: Uint8Array, digest: string, pieceNumber: number): void {
  const { expected, actual } = actualDigest(data, digest);
  if (expected !== actual) {
    throw new DfError(
      "DATA_LOSS",
      `piece ${pieceNumber} (${data.byteLength} bytes) does not match its digest: expected ${expected}, got ${actual}; drop it and fetch the piece from another parent`,
      { reason: "piece-digest-mismatch", details: { pieceNumber, expected, actual, length: data.byteLength } },
    );
  }
}
