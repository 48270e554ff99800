import { describe, expect, it } from "vitest";
import { taskId } from "@df/piece";
import { common } from "@df/rpc";
import { identify, storedIdentity, storedValidators } from "./identity.js";
import { decodeVersion, describeValidators, encodeVersion, sameContent } from "./version.js";

describe("task versions", () => {
  it("encode validators canonically and decode them back; nothing to tell versions apart is no version", () => {
    const text = encodeVersion({ etag: '"abc"', lastModified: "Tue, 01 Dec 2026 10:00:00 GMT", contentLength: 10 })!;
    // The ETag stands for the content: Last-Modified is left out beside it.
    expect(text).toBe('{"etag":"\\"abc\\"","contentLength":10}');
    expect(decodeVersion(text)).toEqual({ etag: '"abc"', contentLength: 10 });
    const dated = { lastModified: "Tue, 01 Dec 2026 10:00:00 GMT", contentLength: 10 };
    expect(decodeVersion(encodeVersion(dated)!)).toEqual(dated);
    expect(encodeVersion({ contentLength: 0 })).toBe('{"contentLength":0}');
    expect(encodeVersion({})).toBeUndefined();
    expect(decodeVersion(encodeVersion({ etag: "x", digest: "sha256:ab" })!)).toEqual({ etag: "x", digest: "sha256:ab" });
  });

  it("refuses anything but the canonical form, so one version is never two tasks", () => {
    for (const bad of ["", "etag", "[]", '{"etag":"x","lastModified":"y"}', '{"etag":1}', '{"contentLength":-1}', '{"other":"x"}', '{"contentLength":1,"etag":"x"}', '{"etag":""}']) {
      expect(() => decodeVersion(bad), bad).toThrow(/is not a task version/);
    }
    // A caller's megabyte-long ETag is refused before it is parsed or kept.
    expect(() => decodeVersion(JSON.stringify({ etag: "e".repeat(2000) }))).toThrow(/is not a task version/);
    expect(decodeVersion(JSON.stringify({ etag: "e".repeat(900) })).etag).toHaveLength(900);
  });

  it("compares only the validators both sides know", () => {
    expect(sameContent({ etag: "a", contentLength: 5 }, { etag: "a" })).toBe(true);
    expect(sameContent({ etag: "a" }, { etag: "b" })).toBe(false);
    expect(sameContent({ etag: "a", lastModified: "x" }, { etag: "a", lastModified: "y" })).toBe(true);
    expect(sameContent({ lastModified: "x", contentLength: 5 }, { lastModified: "x", contentLength: 6 })).toBe(false);
    expect(sameContent({}, { etag: "b" })).toBe(true);
    expect(describeValidators({ etag: '"a"', contentLength: 5 })).toBe('ETag "a", 5 bytes');
    expect(describeValidators({})).toBe("no validators");
  });

  it("hash the version into the task ID after the upstream parts; without one the ID is upstream's", () => {
    const url = "https://example.com/file";
    const plain = identify({ url, type: common.TaskType.STANDARD, filteredQueryParams: [] });
    expect(plain.taskId).toBe(taskId({ url }));
    expect(plain.baseTaskId).toBe(plain.taskId);
    const version = encodeVersion({ etag: '"v1"', contentLength: 3 })!;
    const v1 = identify({ url, type: common.TaskType.STANDARD, filteredQueryParams: [], version });
    expect(v1.taskId).toBe(taskId({ url, version }));
    expect(v1.taskId).not.toBe(plain.taskId);
    expect(v1.baseTaskId).toBe(plain.taskId);
    expect(v1.validators).toEqual({ etag: '"v1"', contentLength: 3 });
    const v2 = identify({ url, type: common.TaskType.STANDARD, filteredQueryParams: [], version: encodeVersion({ etag: '"v2"', contentLength: 3 })! });
    expect(v2.taskId).not.toBe(v1.taskId);
    expect(storedIdentity(v1)).toMatchObject({ baseTaskId: plain.taskId, version });
    expect(storedIdentity(plain)).not.toHaveProperty("baseTaskId");
    expect(storedValidators(v1, { etag: "ignored", "last-modified": "d" }, 3)).toEqual({ validators: { etag: '"v1"', lastModified: "d", contentLength: 3 } });
    expect(storedValidators(plain, { etag: '"h"', "last-modified": "d" }, 7)).toEqual({ validators: { etag: '"h"', lastModified: "d", contentLength: 7 } });
    expect(storedValidators(plain, {}, 7)).toEqual({});
  });

  it("ignores a version on content named by a string, and refuses a malformed one", () => {
    const named = identify({ url: "https://example.com/f", type: common.TaskType.STANDARD, filteredQueryParams: [], contentForCalculatingTaskId: "c", version: '{"etag":"x"}' });
    expect(named.version).toBeUndefined();
    expect(() => identify({ url: "https://example.com/f", type: common.TaskType.STANDARD, filteredQueryParams: [], version: "v1" })).toThrow(/not a task version/);
  });
});
