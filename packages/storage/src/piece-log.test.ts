import { describe, expect, it } from "vitest";
import { decodePieceLog, encodePieceRecord, encodePieceRecords, PIECE_RECORD_SIZE } from "./piece-log.js";

const records = [
  { number: 0, length: 4096, crc: 0xdeadbeef, finishedAt: 1_700_000_000_000 },
  { number: 7, length: 12, crc: 0, finishedAt: 1_700_000_000_123 },
  { number: 0xffff_fffe, length: 0xffff_ffff, crc: 1, finishedAt: 0 },
];

describe("piece log records", () => {
  it("round-trip", () => {
    const encoded = encodePieceRecords(records);
    expect(encoded).toHaveLength(3 * PIECE_RECORD_SIZE);
    expect(decodePieceLog(encoded)).toEqual({ records, corrupt: 0, tornBytes: 0 });
  });

  it("ignore a torn tail", () => {
    const encoded = encodePieceRecords(records);
    const torn = encoded.subarray(0, 2 * PIECE_RECORD_SIZE + 9);
    expect(decodePieceLog(torn)).toEqual({ records: records.slice(0, 2), corrupt: 0, tornBytes: 9 });
  });

  it("skip a garbled or zero-filled record and keep the others", () => {
    const encoded = Buffer.concat([encodePieceRecords(records), Buffer.alloc(PIECE_RECORD_SIZE)]);
    encoded[PIECE_RECORD_SIZE + 2] ^= 0x40;
    expect(decodePieceLog(encoded)).toEqual({ records: [records[0], records[2]], corrupt: 2, tornBytes: 0 });
  });

  it("write at an offset into a shared buffer", () => {
    const target = Buffer.alloc(2 * PIECE_RECORD_SIZE);
    encodePieceRecord(records[1]!, target, PIECE_RECORD_SIZE);
    expect(decodePieceLog(target.subarray(PIECE_RECORD_SIZE)).records).toEqual([records[1]]);
  });
});
