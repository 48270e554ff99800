import { noopLogger, systemClock } from "@df/interface";
import { common, scheduler } from "@df/rpc";
import { describe, expect, it } from "vitest";
import type { HostInfo } from "../resource/host.js";
import { Resources } from "../resource/resources.js";
import { ParentSelector } from "../scheduling/parent-selector.js";
import { Announcements, DEFAULT_ANNOUNCEMENT_OPTIONS } from "./announcements.js";
import { schedulerHandlers } from "./handlers.js";

const host = (id: string): HostInfo => ({
  id,
  type: "normal",
  hostname: id,
  ip: "127.0.0.1",
  port: 4000,
  downloadPort: 4001,
  maxTxBandwidth: 1e10,
  txBandwidth: 0,
  concurrentUploadLimit: 100,
  announceIntervalMs: 30_000,
  disableShared: false,
});

function setup() {
  const resources = new Resources();
  const selector = new ParentSelector([], () => ({ candidateParentLimit: 3, filterParentLimit: 15 }));
  const announcements = new Announcements(resources, selector, undefined, systemClock, DEFAULT_ANNOUNCEMENT_OPTIONS, noopLogger, {});
  for (const id of ["h1", "h2"]) resources.upsertHost(host(id), Date.now());
  return { resources, handlers: schedulerHandlers(resources, announcements, systemClock) };
}

const announce = (hostId: string, peerId: string, contentLength: number, digest: string) =>
  scheduler.AnnounceTaskRequest.create({
    hostId,
    taskId: "cache-task",
    peerId,
    download: common.Download.create({ url: "d7y:/cid", type: common.TaskType.PERSISTENT_CACHE, digest }),
    contentLength,
    pieceLength: 4 * 2 ** 20,
    pieceCount: 1,
  });

/** Handlers may throw synchronously; a promise either way. */
const call = <T>(run: () => T | Promise<T>): Promise<T> => Promise.resolve().then(run);

describe("AnnounceTask and StatTask (dfcache)", () => {
  it("records a complete peer that StatTask then reports as available", async () => {
    const { handlers } = setup();
    await call(() => handlers.announceTask(announce("h1", "p1", 100, "crc32:1"), {} as never));
    const stat = await call(() => handlers.statTask(scheduler.StatTaskRequest.create({ taskId: "cache-task" }), {} as never));
    expect(stat.task).toMatchObject({ state: common.TaskState.SUCCEEDED, hasAvailablePeer: true, contentLength: 100 });
  });

  it("accepts a second holder of the same content and refuses other content while the first holds it", async () => {
    const { handlers } = setup();
    await call(() => handlers.announceTask(announce("h1", "p1", 100, "crc32:1"), {} as never));
    await call(() => handlers.announceTask(announce("h2", "p2", 100, "crc32:1"), {} as never));
    await expect(call(() => handlers.announceTask(announce("h2", "p3", 100, "crc32:2"), {} as never))).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "task-content-conflict",
    });
    await expect(call(() => handlers.announceTask(announce("h2", "p4", 101, "crc32:1"), {} as never))).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
    });
  });

  it("lets new content in once no holder of the old one is left", async () => {
    const { handlers } = setup();
    await call(() => handlers.announceTask(announce("h1", "p1", 100, "crc32:1"), {} as never));
    await call(() => handlers.deleteTask(scheduler.DeleteTaskRequest.create({ hostId: "h1", taskId: "cache-task" }), {} as never));
    await call(() => handlers.announceTask(announce("h2", "p2", 200, "crc32:2"), {} as never));
    const stat = await call(() => handlers.statTask(scheduler.StatTaskRequest.create({ taskId: "cache-task" }), {} as never));
    expect(stat.task).toMatchObject({ hasAvailablePeer: true, contentLength: 200 });
  });

  it("answers NOT_FOUND for a task nobody announced", async () => {
    const { handlers } = setup();
    await expect(call(() => handlers.statTask(scheduler.StatTaskRequest.create({ taskId: "nobody" }), {} as never))).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});
