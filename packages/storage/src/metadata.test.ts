import { describe, expect, it } from "vitest";
import { decodeTaskRecord, encodeTaskRecord, METADATA_FORMAT, type TaskRecord } from "./metadata.js";

const id = "a".repeat(64);
const record: TaskRecord = {
  format: METADATA_FORMAT,
  taskId: id,
  contentLength: 10,
  pieceLength: 4,
  url: "https://example.com",
  responseHeader: { etag: "x" },
  createdAt: 1,
  updatedAt: 2,
  accessedAt: 3,
  syncedPieceRecords: 0,
};

describe("task records", () => {
  it("round-trip, with and without pieces", () => {
    expect(decodeTaskRecord(encodeTaskRecord(record), id)).toEqual(record);
    const complete = { ...record, finishedAt: 4, pieces: [[1, 2], [3, 4], [5, 6]] as Array<[number, number]> };
    expect(decodeTaskRecord(encodeTaskRecord(complete), id)).toEqual(complete);
  });

  it("keep the version of a URL's content: its base task ID, version string and the origin's validators", () => {
    const versioned: TaskRecord = {
      ...record,
      baseTaskId: "c".repeat(64),
      version: '{"etag":"\\"x\\"","contentLength":10}',
      validators: { etag: '"x"', lastModified: "Tue, 01 Dec 2026 10:00:00 GMT", contentLength: 10 },
    };
    expect(decodeTaskRecord(encodeTaskRecord(versioned), id)).toEqual(versioned);
  });

  it.each([
    ["not JSON", "{"],
    ["another task", encodeTaskRecord({ ...record, taskId: "b".repeat(64) })],
    ["another format", JSON.stringify({ ...record, format: "v0" })],
    ["a negative length", JSON.stringify({ ...record, contentLength: -1 })],
    ["a zero piece length", JSON.stringify({ ...record, pieceLength: 0 })],
    ["a bad header", JSON.stringify({ ...record, responseHeader: { a: 1 } })],
    ["too few pieces", JSON.stringify({ ...record, finishedAt: 4, pieces: [[1, 2]] })],
    ["pieces without finishedAt", JSON.stringify({ ...record, pieces: [[1, 2], [3, 4], [5, 6]] })],
    ["an array", "[]"],
    ["validators with a bad length", JSON.stringify({ ...record, validators: { contentLength: -1 } })],
    ["validators with other keys", JSON.stringify({ ...record, validators: { etag: "x", size: 1 } })],
    ["a version that is not a string", JSON.stringify({ ...record, version: 1 })],
  ])("reject %s as corrupt", (_name, text) => {
    expect(() => decodeTaskRecord(text, id)).toThrow(expect.objectContaining({ code: "DATA_LOSS", reason: "corrupt-metadata" }));
  });
});
