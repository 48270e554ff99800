import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { isDfError } from "@df/interface";
import { common, daemonDownload, HashRing, scheduler as schedulerRpc, unary } from "@df/rpc";
import { describe, expect, it } from "vitest";
import { taskId } from "@df/piece";
import { SchedulerClients } from "../scheduler-link/scheduler-clients.js";
import { downloadClient, startDaemon, startScheduler, tempDir, waitFor, type DownloadClient } from "../test-support/cluster.js";

const MiB = 1024 * 1024;
const PERSISTENT_CACHE = common.TaskType.PERSISTENT_CACHE;
/** The cache URL rule dfcache uses (see @df/cli dfcache/cache-id.ts). */
const cacheUrl = (cid: string) => `d7y:/${encodeURIComponent(cid)}`;

async function failure(promise: Promise<unknown>): Promise<{ code: string; reason?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(isDfError(error), String(error)).toBe(true);
    return error as { code: string; reason?: string; message: string };
  }
  throw new Error("expected a failure");
}

const importFile = (client: DownloadClient, cid: string, file: string) =>
  unary(client, "importTask", daemonDownload.ImportTaskRequest.create({ path: file, url: cacheUrl(cid), type: PERSISTENT_CACHE }));
const stat = (client: DownloadClient, cid: string, localOnly = false) =>
  unary(client, "statTask", daemonDownload.StatTaskRequest.create({ url: cacheUrl(cid), type: PERSISTENT_CACHE, localOnly }));
const exportTo = (client: DownloadClient, cid: string, output: string, extra: Partial<daemonDownload.ExportTaskRequest> = {}) =>
  unary(client, "exportTask", daemonDownload.ExportTaskRequest.create({ url: cacheUrl(cid), type: PERSISTENT_CACHE, outputPath: output, ...extra }));

async function twoPeers() {
  const { scheduler, address } = await startScheduler();
  const a = await startDaemon({ name: "peer-a", scheduler: address });
  const b = await startDaemon({ name: "peer-b", scheduler: address });
  const dir = await tempDir();
  return { scheduler, a, b, dir, clientA: downloadClient(a.addresses.socket), clientB: downloadClient(b.addresses.socket) };
}

describe("dfcache through the daemon: import, stat, export, delete", () => {
  it("imports on one peer, and another peer finds and exports it from that peer", async () => {
    const { a, b, dir, clientA, clientB } = await twoPeers();
    const bytes = randomBytes(9 * MiB + 123);
    const file = path.join(dir, "data.bin");
    await writeFile(file, bytes);
    const imported = await importFile(clientA, "sha256:abc", file);
    expect(imported.task).toMatchObject({ contentLength: bytes.length, state: common.TaskState.SUCCEEDED, pieceCount: 3 });
    expect(imported.task!.pieces.every((piece) => piece.digest.startsWith("crc32:"))).toBe(true);

    expect((await stat(clientA, "sha256:abc", true)).task?.state).toBe(common.TaskState.SUCCEEDED);
    expect((await failure(stat(clientB, "sha256:abc", true))).code).toBe("NOT_FOUND");
    const remote = (await stat(clientB, "sha256:abc")).task!;
    expect(remote.hasAvailablePeer).toBe(true);
    expect(remote.state).toBe(common.TaskState.SUCCEEDED);

    const output = path.join(dir, "out", "data.bin");
    const exported = await exportTo(clientB, "sha256:abc", output);
    expect(exported).toMatchObject({ taskId: imported.task!.id, contentLength: bytes.length, outputPath: output });
    expect((await readFile(output)).equals(bytes)).toBe(true);
    expect(b.storage.getTask(imported.task!.id)?.complete).toBe(true);
    expect(a.conductor.peerIdOf(imported.task!.id)).toBeDefined();
  });

  it("says NOT_FOUND at once for a cid nobody has, on stat and export, and registers no download", async () => {
    const { b, dir, clientB } = await twoPeers();
    const started = performance.now();
    expect((await failure(stat(clientB, "nobody"))).code).toBe("NOT_FOUND");
    expect((await failure(exportTo(clientB, "nobody", path.join(dir, "none.bin")))).code).toBe("NOT_FOUND");
    expect(performance.now() - started).toBeLessThan(2000);
    expect(b.conductor.running).toBe(0);
  });

  it("an export from a holder that lost its copy unannounced is NOT_FOUND and leaves nothing on the exporter", async () => {
    const { b, dir, clientA, clientB } = await twoPeers();
    const file = path.join(dir, "lost.bin");
    await writeFile(file, randomBytes(5 * MiB));
    const imported = await importFile(clientA, "cid-lost", file);
    // Only here: the scheduler still lists peer A as a holder of the whole task.
    await unary(clientA, "deleteTask", daemonDownload.DeleteTaskRequest.create({ url: cacheUrl("cid-lost"), type: PERSISTENT_CACHE, remote: false }));
    expect((await stat(clientB, "cid-lost")).task?.hasAvailablePeer).toBe(true);
    const lost = await failure(exportTo(clientB, "cid-lost", path.join(dir, "lost.out")));
    expect(lost.code).toBe("NOT_FOUND");
    expect(b.storage.getTask(imported.task!.id)).toBeUndefined();
    expect(b.conductor.running).toBe(0);
    await expect(readFile(path.join(dir, "lost.out"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses an existing output unless told to overwrite, leaving it as it was", async () => {
    const { dir, clientA } = await twoPeers();
    const file = path.join(dir, "in.bin");
    await writeFile(file, "new content");
    await importFile(clientA, "cid-overwrite", file);
    const output = path.join(dir, "existing.txt");
    await writeFile(output, "keep me");
    const refused = await failure(exportTo(clientA, "cid-overwrite", output));
    expect(refused.code).toBe("ALREADY_EXISTS");
    expect(await readFile(output, "utf8")).toBe("keep me");
    await exportTo(clientA, "cid-overwrite", output, { overwrite: true });
    expect(await readFile(output, "utf8")).toBe("new content");
  });

  it("gives clear errors for a missing file, a directory and a relative path", async () => {
    const { dir, clientA } = await twoPeers();
    expect(await failure(importFile(clientA, "x", path.join(dir, "missing.bin")))).toMatchObject({ code: "NOT_FOUND", reason: "file-not-found" });
    await mkdir(path.join(dir, "folder"));
    expect(await failure(importFile(clientA, "x", path.join(dir, "folder")))).toMatchObject({ code: "INVALID_ARGUMENT", reason: "not-a-file" });
    expect((await failure(importFile(clientA, "x", "relative/file"))).code).toBe("INVALID_ARGUMENT");
  });

  it("re-importing the same content is reused; other content under the same cid is refused, here and on another peer", async () => {
    const { a, b, dir, clientA, clientB } = await twoPeers();
    const one = path.join(dir, "one.bin");
    const two = path.join(dir, "two.bin");
    await writeFile(one, randomBytes(5 * MiB));
    await writeFile(two, randomBytes(5 * MiB));
    const first = await importFile(clientA, "cid-twice", one);
    const again = await importFile(clientA, "cid-twice", one);
    expect(again.task?.id).toBe(first.task?.id);
    expect(await failure(importFile(clientA, "cid-twice", two))).toMatchObject({ code: "ALREADY_EXISTS", reason: "task-content-conflict" });
    expect(a.storage.getTask(first.task!.id)?.complete).toBe(true);
    // Another peer: the scheduler refuses, and that peer keeps no copy to serve.
    expect(await failure(importFile(clientB, "cid-twice", two))).toMatchObject({ code: "ALREADY_EXISTS", reason: "task-content-conflict" });
    expect(b.storage.getTask(first.task!.id)).toBeUndefined();
    const output = path.join(dir, "exported.bin");
    await exportTo(clientB, "cid-twice", output);
    expect((await readFile(output)).equals(await readFile(one))).toBe(true);
  });

  it("delete removes the local copy; with remote the scheduler stops handing this peer out", async () => {
    const { dir, clientA, clientB } = await twoPeers();
    const file = path.join(dir, "gone.bin");
    await writeFile(file, randomBytes(1000));
    await importFile(clientA, "cid-delete", file);
    await unary(clientA, "deleteTask", daemonDownload.DeleteTaskRequest.create({ url: cacheUrl("cid-delete"), type: PERSISTENT_CACHE, remote: true }));
    expect((await failure(stat(clientA, "cid-delete", true))).code).toBe("NOT_FOUND");
    const remote = await stat(clientB, "cid-delete").then(
      (answer) => answer.task?.hasAvailablePeer ?? false,
      () => false,
    );
    expect(remote).toBe(false);
    expect((await failure(exportTo(clientB, "cid-delete", path.join(dir, "x.bin")))).code).toBe("NOT_FOUND");
  });
});

describe("dfcache with several schedulers: hand-back to the owner", () => {
  it("re-announces a task imported while its owner was down to the owner once it is back, and leaves it on the fallback", async () => {
    const started = await Promise.all([startScheduler(), startScheduler(), startScheduler()]);
    const addresses = started.map((s) => s.address);
    const ring = new HashRing(addresses);
    const cid = "handed-back";
    const id = taskId({ url: cacheUrl(cid), type: "PERSISTENT_CACHE" });
    const [owner, fallback] = ring.getN(id, 2) as [string, string];
    const ownerIndex = addresses.indexOf(owner);
    const config = { scheduler: { addresses } };
    const a = await startDaemon({ name: "peer-a", scheduler: owner, config });
    const dir = await tempDir();
    const file = path.join(dir, "data.bin");
    const bytes = randomBytes(2 * MiB + 7);
    await writeFile(file, bytes);

    await started[ownerIndex]!.scheduler.stop();
    const imported = await importFile(downloadClient(a.addresses.socket), cid, file);
    expect(imported.task?.id).toBe(id);
    const statOn = (address: string) =>
      unary(a.container.resolve(SchedulerClients).client(address), "statTask", schedulerRpc.StatTaskRequest.create({ hostId: "test", taskId: id }));
    expect((await statOn(fallback)).task?.hasAvailablePeer).toBe(true);

    // The owner comes back at the same address, knowing nothing; A hands the task back.
    await startScheduler(owner);
    await waitFor(() => statOn(owner).then((answer) => answer.task?.hasAvailablePeer === true, () => false), 15_000, "the owner to learn the task");
    expect((await statOn(fallback)).task?.hasAvailablePeer).toBe(true);

    // A peer that routes to the owner finds it, and fetches it from A.
    const b = await startDaemon({ name: "peer-b", scheduler: owner, config });
    const clientB = downloadClient(b.addresses.socket);
    expect((await stat(clientB, cid)).task?.hasAvailablePeer).toBe(true);
    const output = path.join(dir, "out.bin");
    await exportTo(clientB, cid, output);
    expect((await readFile(output)).equals(bytes)).toBe(true);
  });
});
