import { afterEach, describe, expect, it } from "vitest";
import { noopLogger } from "@df/interface";
import { bidiStream, common, createRpcClient, scheduler as s, unary, type BidiCall, type RpcClient } from "@df/rpc";
import { schedulerConfigSchema } from "../config.js";
import { Scheduler } from "../scheduler.js";
import { fromSource } from "../test-support/source-address.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Client = RpcClient<typeof s.SchedulerService>;

/** A real scheduler on loopback, a client from 127.0.0.1 and one from 127.0.0.2. */
async function start(limits: Record<string, number> = {}) {
  const config = schedulerConfigSchema.parse({ listen: "127.0.0.1:0", metricsListen: "", log: { level: "silent" }, limits });
  const scheduler = await Scheduler.create(config, { logger: noopLogger });
  const address = await scheduler.start();
  if (address.kind !== "tcp") throw new Error("expected a TCP address");
  cleanups.push(() => scheduler.stop());
  const forwarder = await fromSource(address, "127.0.0.2");
  cleanups.push(() => forwarder.close());
  const honest: Client = createRpcClient(s.SchedulerClient, `127.0.0.1:${address.port}`);
  const other: Client = createRpcClient(s.SchedulerClient, forwarder.address);
  cleanups.push(() => honest.close(), () => other.close());
  return { scheduler, honest, other };
}

const hostMessage = (id: string, fields: Partial<common.Host> = {}) =>
  s.AnnounceHostRequest.create({ host: common.Host.create({ id, hostname: id, ip: "127.0.0.1", port: 4000, ...fields }), intervalMs: 30_000 });

const announceTask = (hostId: string, peerId: string, fields: Partial<s.AnnounceTaskRequest> = {}) =>
  s.AnnounceTaskRequest.create({
    hostId,
    taskId: "cache-task",
    peerId,
    download: common.Download.create({ url: "d7y:/cid", type: common.TaskType.PERSISTENT_CACHE }),
    contentLength: 100,
    pieceLength: 4 * 2 ** 20,
    pieceCount: 1,
    ...fields,
  });

/** The next answer on an AnnouncePeer stream (rejects with the server's error). */
async function read(call: BidiCall<s.AnnouncePeerRequest, s.AnnouncePeerResponse>): Promise<s.AnnouncePeerResponse | undefined> {
  cleanups.push(() => call.cancel());
  const next = await call.next();
  return next.done ? undefined : next.value;
}

async function rejections(scheduler: Scheduler, limit: string): Promise<number> {
  const line = (await scheduler.metrics.text()).split("\n").find((l) => l.startsWith(`df_scheduler_limit_rejections_total{limit="${limit}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("a host may act only for itself (bound to the address it announced from)", () => {
  it("refuses DeleteHost, AnnounceHost, AnnounceTask and DeleteTask naming another address's host, and honours its own", async () => {
    const { scheduler, honest, other } = await start();
    await unary(honest, "announceHost", hostMessage("victim"));
    await unary(honest, "announceTask", announceTask("victim", "victim-peer"));

    const denied = { code: "PERMISSION_DENIED", message: expect.stringMatching(/announced itself from 127\.0\.0\.1/) };
    await expect(unary(other, "deleteHost", s.DeleteHostRequest.create({ hostId: "victim" }))).rejects.toMatchObject(denied);
    await expect(unary(other, "announceHost", hostMessage("victim", { port: 9 }))).rejects.toMatchObject(denied);
    await expect(unary(other, "announceTask", announceTask("victim", "forged-peer"))).rejects.toMatchObject(denied);
    await expect(unary(other, "deleteTask", s.DeleteTaskRequest.create({ hostId: "victim", taskId: "cache-task" }))).rejects.toMatchObject(denied);
    await expect(unary(other, "deletePeer", s.DeletePeerRequest.create({ peerId: "victim-peer" }))).rejects.toMatchObject(denied);
    expect(scheduler.resources.hosts.get("victim")?.info.port).toBe(4000);
    expect(scheduler.resources.peers.has("victim-peer")).toBe(true);
    expect(await rejections(scheduler, "hostBinding")).toBe(5);

    // The other address's own host is its to announce and delete.
    await unary(other, "announceHost", hostMessage("mine"));
    await unary(other, "deleteHost", s.DeleteHostRequest.create({ hostId: "mine" }));
    await unary(honest, "deleteHost", s.DeleteHostRequest.create({ hostId: "victim" }));
    expect([...scheduler.resources.hosts.keys()]).toEqual([]);
  });

  it("refuses an AnnouncePeer register for another address's host, and a report for another peer on one's own stream", async () => {
    const { scheduler, honest, other } = await start();
    await unary(honest, "announceHost", hostMessage("victim"));
    await unary(other, "announceHost", hostMessage("mine"));
    const register = { $case: "register" as const, value: { download: common.Download.create({ url: "http://origin/file" }) } };

    const forged = bidiStream(other, "announcePeer");
    await forged.write(s.AnnouncePeerRequest.create({ hostId: "victim", taskId: "t", peerId: "forged", request: register }));
    await expect(read(forged)).rejects.toMatchObject({ code: "PERMISSION_DENIED" });

    await unary(honest, "announceTask", announceTask("victim", "victim-peer", { taskId: "t" }));
    const own = bidiStream(other, "announcePeer");
    await own.write(s.AnnouncePeerRequest.create({ hostId: "mine", taskId: "t", peerId: "p-mine", request: register }));
    expect((await read(own))?.response?.$case).toBe("normalTask");
    await own.write(
      s.AnnouncePeerRequest.create({ hostId: "mine", taskId: "t", peerId: "victim-peer", request: { $case: "downloadFailed", value: { description: "x" } } }),
    );
    await expect(read(own)).rejects.toMatchObject({ code: "PERMISSION_DENIED", message: expect.stringMatching(/registered peer p-mine/) });
    expect(scheduler.resources.peers.get("victim-peer")?.state).toBe("succeeded");
  });
});

describe("task size and piece count", () => {
  it("refuses 4,000,000 pieces at once, a count that does not match the length, and a task over limits.maxTaskSize", async () => {
    const { scheduler, honest } = await start();
    await unary(honest, "announceHost", hostMessage("h1"));
    const started = performance.now();
    await expect(
      unary(honest, "announceTask", announceTask("h1", "p1", { contentLength: 4_000_000 * 4 * 2 ** 20, pieceCount: 4_000_000 })),
    ).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED", message: expect.stringMatching(/limits\.maxTaskSize/) });
    await expect(unary(honest, "announceTask", announceTask("h1", "p1", { contentLength: 100, pieceLength: 1, pieceCount: 4_000_000 }))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/4000000 pieces do not make 100 bytes/),
    });
    await expect(unary(honest, "announceTask", announceTask("h1", "p1", { contentLength: 4_000_000, pieceLength: 1, pieceCount: 0 }))).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      message: expect.stringMatching(/4000000 pieces.*limits\.maxPieceCount = 262144/),
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(scheduler.resources.tasks.size).toBe(0);
    expect(await rejections(scheduler, "maxPieceCount")).toBe(1);
    expect(await rejections(scheduler, "maxTaskSize")).toBe(1);
  });

  it("takes a 1 TiB task in 4 MiB pieces (262,144) quickly, counted rather than listed", async () => {
    const { scheduler, honest } = await start();
    await unary(honest, "announceHost", hostMessage("h1"));
    const started = performance.now();
    await unary(honest, "announceTask", announceTask("h1", "p1", { contentLength: 2 ** 40, pieceCount: 262_144 }));
    expect(performance.now() - started).toBeLessThan(500);
    const peer = scheduler.resources.peers.get("p1")!;
    expect(peer.finishedPieceCount).toBe(262_144);
    expect(peer.finishedPieces.size).toBe(0);
  });

  it("refuses a reported piece the task does not have", async () => {
    const { honest } = await start({ maxPieceCount: 1000 });
    await unary(honest, "announceHost", hostMessage("h1"));
    const stream = bidiStream(honest, "announcePeer");
    const ids = { hostId: "h1", taskId: "t", peerId: "p1" };
    await stream.write(s.AnnouncePeerRequest.create({ ...ids, request: { $case: "register", value: { download: common.Download.create({ url: "http://o/f" }) } } }));
    expect((await read(stream))?.response?.$case).toBe("needBackToSource");
    const piece = (number: number) => ({ $case: "pieceBackToSourceFinished" as const, value: { piece: common.Piece.create({ number, length: 1 }) } });
    await stream.write(s.AnnouncePeerRequest.create({ ...ids, request: piece(999) }));
    await stream.write(s.AnnouncePeerRequest.create({ ...ids, request: piece(1000) }));
    await expect(read(stream)).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/piece 1000 does not exist/) });
  });
});

describe("caps on hosts, tasks and peers", () => {
  it("answers RESOURCE_EXHAUSTED naming the key once the scheduler is full, and takes more once room is made", async () => {
    const { scheduler, honest } = await start({ maxHosts: 2, maxTasks: 1, maxPeersPerTask: 2 });
    await unary(honest, "announceHost", hostMessage("h1"));
    await unary(honest, "announceHost", hostMessage("h2"));
    await expect(unary(honest, "announceHost", hostMessage("h3"))).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      message: expect.stringMatching(/2 hosts \(limits\.maxHosts = 2\); raise limits\.maxHosts/),
    });
    await unary(honest, "announceHost", hostMessage("h2", { port: 4002 }));

    await unary(honest, "announceTask", announceTask("h1", "p1"));
    await unary(honest, "announceTask", announceTask("h2", "p2"));
    await expect(unary(honest, "announceTask", announceTask("h2", "p3"))).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      message: expect.stringMatching(/limits\.maxPeersPerTask = 2/),
    });
    await expect(unary(honest, "announceTask", announceTask("h2", "p4", { taskId: "another" }))).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      message: expect.stringMatching(/limits\.maxTasks = 1/),
    });
    expect(await rejections(scheduler, "maxHosts")).toBe(1);
    expect(await rejections(scheduler, "maxPeersPerTask")).toBe(1);
    expect(await rejections(scheduler, "maxTasks")).toBe(1);

    await unary(honest, "deleteHost", s.DeleteHostRequest.create({ hostId: "h1" }));
    await unary(honest, "announceHost", hostMessage("h3"));
  });
});

describe("string fields", () => {
  it("refuses a 30 MB string at the gRPC limit and over-long fields INVALID_ARGUMENT naming the key", async () => {
    const { scheduler, honest } = await start();
    await expect(unary(honest, "announceHost", hostMessage("h1", { hostname: "x".repeat(30e6) }))).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    await expect(unary(honest, "announceHost", hostMessage("h1", { hostname: "x".repeat(1025) }))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/host\.hostname is longer than 1024 bytes \(limits\.maxStringLength\)/),
    });
    await expect(unary(honest, "announceHost", hostMessage("h1", { location: "é".repeat(600) }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await unary(honest, "announceHost", hostMessage("h1", { hostname: "x".repeat(1024) }));
    const long = (download: Partial<common.Download>) =>
      announceTask("h1", "p1", { download: common.Download.create({ url: "d7y:/cid", type: common.TaskType.PERSISTENT_CACHE, ...download }) });
    await expect(unary(honest, "announceTask", long({ url: `https://o/${"a".repeat(8192)}` }))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/limits\.maxUrlLength/),
    });
    await expect(unary(honest, "announceTask", long({ requestHeader: { cookie: "c".repeat(20_000) } }))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/limits\.maxHeaderBytes/),
    });
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`h${i}`, "v"]));
    await expect(unary(honest, "announceTask", long({ requestHeader: many }))).rejects.toMatchObject({ message: expect.stringMatching(/limits\.maxListLength/) });
    await expect(unary(honest, "announceTask", announceTask("h1", "p".repeat(2000)))).rejects.toMatchObject({ message: expect.stringMatching(/peer_id/) });
    await expect(unary(honest, "announceTask", long({ version: "v".repeat(2000) }))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/download\.version is longer than 1024 bytes/),
    });
    expect(scheduler.resources.tasks.size).toBe(0);
    expect(await rejections(scheduler, "maxStringLength")).toBe(4);
  });
});

describe("seed peers", () => {
  it("takes self-declared seed peers up to limits.maxSelfDeclaredSeeds, and ordinary hosts beyond", async () => {
    const { scheduler, honest, other } = await start({ maxSelfDeclaredSeeds: 2 });
    const seed = (id: string) => hostMessage(id, { type: common.HostType.SEED });
    await unary(honest, "announceHost", seed("s1"));
    await unary(other, "announceHost", seed("s2"));
    await expect(unary(other, "announceHost", seed("s3"))).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      message: expect.stringMatching(/register the seed peer with the manager, or raise limits\.maxSelfDeclaredSeeds/),
    });
    await unary(other, "announceHost", hostMessage("s3"));
    await unary(honest, "announceHost", seed("s1"));
    expect([...scheduler.resources.seedHosts.keys()].sort()).toEqual(["s1", "s2"]);
    // A seed that leaves makes room for another.
    await unary(other, "deleteHost", s.DeleteHostRequest.create({ hostId: "s2" }));
    await unary(other, "announceHost", seed("s4"));
    expect(scheduler.resources.seedHostFor("any")?.type).toBe("seed");
  });
});

describe("announce rate per caller address", () => {
  it("refuses one address's flood beyond its burst while another address is still answered", async () => {
    const { scheduler, honest, other } = await start({ announceRate: 1, announceBurst: 20 });
    await unary(honest, "announceHost", hostMessage("honest"));
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      await unary(other, "announceHost", hostMessage("flooder")).then(
        () => accepted++,
        (error: unknown) => {
          expect(error).toMatchObject({ code: "RESOURCE_EXHAUSTED", message: expect.stringMatching(/from 127\.0\.0\.2 refused.*limits\.announceRate/) });
          refused++;
        },
      );
    }
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(accepted).toBeLessThanOrEqual(22);
    expect(refused).toBe(40 - accepted);
    await unary(honest, "announceHost", hostMessage("honest"));
    expect(await rejections(scheduler, "announceRate")).toBe(refused);
  });
});
