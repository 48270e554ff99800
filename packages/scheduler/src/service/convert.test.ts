import { describe, expect, it } from "vitest";
import { Task } from "../resource/task.js";
import { common } from "@df/rpc";
import { downloadFromProto, downloadToProto, taskToProto, withoutCredentials } from "./convert.js";

describe("taskToProto", () => {
  it("leaves out the credentials the task's first peer fetched with: StatTask answers anyone", () => {
    const header = { Authorization: "Bearer alice", cookie: "s=1", "X-Api-Key": "k", Accept: "*/*", "x-request-id": "r" };
    const task = new Task("t".repeat(64), { url: "https://example.com/private", type: "STANDARD", filteredQueryParams: [], header, backToSourceLimit: 200 }, Date.now());
    expect(taskToProto(task).requestHeader).toEqual({ Accept: "*/*", "x-request-id": "r" });
    expect(withoutCredentials({})).toEqual({});
  });
});

describe("the download a seed peer is triggered with", () => {
  it("carries the peer's version, an empty one (no version, by the peer's choice) included", () => {
    const versioned = common.Download.create({ url: "https://example.com/f", version: '{"etag":"\\"1\\""}' });
    expect(downloadToProto(downloadFromProto(versioned)).version).toBe('{"etag":"\\"1\\""}');
    const chosenNone = common.Download.create({ url: "https://example.com/f", version: "" });
    expect(downloadToProto(downloadFromProto(chosenNone)).version).toBe("");
    expect(downloadToProto(downloadFromProto(common.Download.create({ url: "https://example.com/f" }))).version).toBeUndefined();
  });
});
