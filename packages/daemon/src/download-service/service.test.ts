import path from "node:path";
import { describe, expect, it } from "vitest";
import { common, daemonDownload, unary } from "@df/rpc";
import { currentTaskId, DEAD_SCHEDULER, download, downloadClient, startDaemon, startOrigin, startScheduler, waitFor } from "../test-support/cluster.js";

describe("download service: stat, delete, unimplemented and bad requests", () => {
  it("stats a task locally and deletes it", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/stat.bin", Buffer.alloc(1000, 7));
    const daemon = await startDaemon({ name: "stat", scheduler: DEAD_SCHEDULER });
    const client = downloadClient(daemon.addresses.socket);
    await download(daemon.addresses.socket, { url, outputPath: path.join(daemon.dir, "out") });

    const { task } = await unary(client, "statTask", daemonDownload.StatTaskRequest.create({ url, localOnly: true }));
    expect(task).toMatchObject({
      id: currentTaskId(origin, { url }),
      contentLength: 1000,
      pieceCount: 1,
      state: common.TaskState.SUCCEEDED,
      hasAvailablePeer: true,
      url,
    });
    expect(task?.pieces).toHaveLength(1);
    const byId = await unary(client, "statTask", daemonDownload.StatTaskRequest.create({ taskId: task!.id, localOnly: true }));
    expect(byId.task?.id).toBe(task!.id);

    await unary(client, "deleteTask", daemonDownload.DeleteTaskRequest.create({ url }));
    expect(daemon.storage.getTask(task!.id)).toBeUndefined();
    await expect(unary(client, "statTask", daemonDownload.StatTaskRequest.create({ url, localOnly: true }))).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(unary(client, "deleteTask", daemonDownload.DeleteTaskRequest.create({ url }))).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("describes the task held now: after a delete and a new download of other content, stat says so", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/changes.bin", Buffer.alloc(1000, 7));
    const daemon = await startDaemon({ name: "restat", scheduler: DEAD_SCHEDULER });
    const client = downloadClient(daemon.addresses.socket);
    const stat = async () => (await unary(client, "statTask", daemonDownload.StatTaskRequest.create({ url, localOnly: true }))).task;
    await download(daemon.addresses.socket, { url });
    expect(await stat()).toMatchObject({ contentLength: 1000, pieceCount: 1 });
    expect(await stat()).toEqual(await stat());
    await unary(client, "deleteTask", daemonDownload.DeleteTaskRequest.create({ url }));
    origin.publish("/changes.bin", Buffer.alloc(5 * 2 ** 20, 9));
    await download(daemon.addresses.socket, { url });
    expect(await stat()).toMatchObject({ contentLength: 5 * 2 ** 20, pieceCount: 2, state: common.TaskState.SUCCEEDED });
  });

  it("asks the scheduler about a task this host does not hold, and tells it when the task is deleted remotely", async () => {
    const origin = await startOrigin();
    const { scheduler, address } = await startScheduler();
    const holder = await startDaemon({ name: "holder", scheduler: address });
    const asker = await startDaemon({ name: "asker", scheduler: address });
    const url = origin.publish("/remote.bin", Buffer.alloc(2000, 1));
    const taskId = currentTaskId(origin, { url });
    await download(holder.addresses.socket, { url });
    await waitFor(() => scheduler.resources.tasks.get(taskId)?.hasAvailablePeer() === true, 5000, "a holder");

    const remote = await unary(downloadClient(asker.addresses.socket), "statTask", daemonDownload.StatTaskRequest.create({ url }));
    expect(remote.task).toMatchObject({ id: taskId, state: common.TaskState.SUCCEEDED, hasAvailablePeer: true, contentLength: 2000 });
    await expect(
      unary(downloadClient(asker.addresses.socket), "statTask", daemonDownload.StatTaskRequest.create({ url: origin.url("/unknown") })),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });

    await unary(downloadClient(holder.addresses.socket), "deleteTask", daemonDownload.DeleteTaskRequest.create({ url, remote: true }));
    expect(scheduler.resources.tasks.get(taskId)?.hasAvailablePeer() ?? false).toBe(false);
  });

  it("import without a reachable scheduler keeps the local copy and says UNAVAILABLE; export of an unknown task too", async () => {
    const daemon = await startDaemon({ name: "no-scheduler", scheduler: DEAD_SCHEDULER });
    const client = downloadClient(daemon.addresses.socket);
    await expect(unary(client, "importTask", daemonDownload.ImportTaskRequest.create({ path: "/etc/hostname" }))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      reason: "missing-url",
    });
    const imported = unary(client, "importTask", daemonDownload.ImportTaskRequest.create({ path: "/etc/hostname", url: "d7y:/hostname", type: common.TaskType.PERSISTENT_CACHE }));
    await expect(imported).rejects.toMatchObject({ code: "UNAVAILABLE", reason: "announce-failed" });
    const local = await unary(client, "statTask", daemonDownload.StatTaskRequest.create({ url: "d7y:/hostname", type: common.TaskType.PERSISTENT_CACHE, localOnly: true }));
    expect(local.task?.state).toBe(common.TaskState.SUCCEEDED);
    await expect(unary(client, "exportTask", daemonDownload.ExportTaskRequest.create({ url: "d7y:/other", outputPath: "/tmp/df-never-written" }))).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
  });

  it("rejects bad requests before fetching anything", async () => {
    const daemon = await startDaemon({ name: "bad", scheduler: DEAD_SCHEDULER });
    const socket = daemon.addresses.socket;
    await expect(download(socket, { url: "" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(download(socket, { url: "not a url" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(download(socket, { url: "http://127.0.0.1:9/x", pieceLength: 1000 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("piece length"),
    });
    await expect(download(socket, { url: "http://127.0.0.1:9/x", digest: "md5:abc" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(download(socket, { url: "ftp://127.0.0.1/x" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("no source plugin"),
    });
  });
});
