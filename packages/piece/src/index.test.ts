import { describe, expect, it } from "vitest";
import * as piece from "./index.js";

describe("@df/piece entry point", () => {
  it("exports the agreed API", () => {
    const names = [
      "MIN_PIECE_LENGTH",
      "MAX_PIECE_LENGTH",
      "TARGET_MAX_PIECE_COUNT",
      "pieceLengthFor",
      "pieceCount",
      "pieceRange",
      "piecesForRange",
      "piecesInRange",
      "parseByteRange",
      "crc32",
      "crc32Digest",
      "Crc32",
      "parseDigest",
      "createDigester",
      "DigestVerifier",
      "digestVerifyingStream",
      "pieceDigestMatches",
      "verifyPieceDigest",
      "DEFAULT_FILTERED_QUERY_PARAMS",
      "filterUrl",
      "taskId",
      "taskIdFromContent",
      "hostId",
      "peerId",
      "pieceId",
      "sizeScope",
      "PieceBitset",
    ];
    const missing = names.filter((name) => !(name in piece));
    expect(missing).toEqual([]);
  });
});
