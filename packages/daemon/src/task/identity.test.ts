import { describe, expect, it } from "vitest";
import { taskId } from "@df/piece";
import { common } from "@df/rpc";
import { identify } from "./identity.js";

const naming = (fields: Partial<Parameters<typeof identify>[0]> = {}) => ({
  url: "d7y:/cid",
  type: common.TaskType.PERSISTENT_CACHE,
  filteredQueryParams: [],
  ...fields,
});

describe("identify", () => {
  it("gives each naming its own ID, the same however often and in whatever order it is asked", () => {
    const namings = [
      naming(),
      naming({ tag: "a" }),
      naming({ application: "b" }),
      naming({ pieceLength: 8 * 2 ** 20 }),
      naming({ type: common.TaskType.STANDARD, url: "https://example.com/f?x=1" }),
      naming({ type: common.TaskType.STANDARD, url: "https://example.com/f?x=1", filteredQueryParams: ["x"] }),
    ];
    const expected = namings.map((n) =>
      taskId({
        url: n.url,
        type: n.type === common.TaskType.PERSISTENT_CACHE ? "PERSISTENT_CACHE" : "STANDARD",
        ...(n.tag ? { tag: n.tag } : {}),
        ...(n.application ? { application: n.application } : {}),
        ...(n.pieceLength ? { pieceLength: n.pieceLength } : {}),
        ...(n.filteredQueryParams.length > 0 ? { filteredQueryParams: n.filteredQueryParams } : {}),
      }),
    );
    expect(new Set(expected).size).toBe(namings.length);
    for (let round = 0; round < 3; round++) {
      for (const i of round === 1 ? [...namings.keys()].reverse() : namings.keys()) expect(identify(namings[i]!).taskId).toBe(expected[i]);
    }
  });

  it("refuses a bad naming every time, not only the first", () => {
    for (let i = 0; i < 2; i++) {
      expect(() => identify(naming({ url: "not a url" }))).toThrow(/not an absolute URL/);
      expect(() => identify(naming({ pieceLength: 1000 }))).toThrow(/piece length/);
    }
  });

  it("hands out an identity the caller may change without changing the next one", () => {
    const first = identify(naming({ filteredQueryParams: ["a"] }));
    first.filteredQueryParams.push("b");
    expect(identify(naming({ filteredQueryParams: ["a"] })).filteredQueryParams).toEqual(["a"]);
  });
});
