import { describe, expect, it } from "vitest";
import { Task } from "../resource/task.js";
import { taskToProto, withoutCredentials } from "./convert.js";

describe("taskToProto", () => {
  it("leaves out the credentials the task's first peer fetched with: StatTask answers anyone", () => {
    const header = { Authorization: "Bearer alice", cookie: "s=1", "X-Api-Key": "k", Accept: "*/*", "x-request-id": "r" };
    const task = new Task("t".repeat(64), { url: "https://example.com/private", type: "STANDARD", filteredQueryParams: [], header, backToSourceLimit: 200 }, Date.now());
    expect(taskToProto(task).requestHeader).toEqual({ Accept: "*/*", "x-request-id": "r" });
    expect(withoutCredentials({})).toEqual({});
  });
});
