import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRpcClient, createRpcServer, daemonUpload, scheduler, serverStream, unary, bidiStream } from "./index.js";
import { aborted, sleep, TRANSPORTS, withTempDir, type Transport } from "./test-support/harness.js";

const { DfdaemonUploadService, DfdaemonUploadClient } = daemonUpload;
const { SchedulerService, SchedulerClient } = scheduler;

function addressIn(dir: string, transport: Transport): string {
  return transport === "tcp" ? "127.0.0.1:0" : join(dir, "shutdown.sock");
}

describe.each(TRANSPORTS)("server stop over %s", (transport) => {
  it("ends an open server stream with UNAVAILABLE after the grace period and aborts its handler", async () => {
    await withTempDir(async (dir) => {
      let handlerSaw: unknown;
      const server = createRpcServer({ address: addressIn(dir, transport) });
      server.addService(DfdaemonUploadService, {
        async *syncPieces(_request, context) {
          yield daemonUpload.SyncPiecesResponse.create({ number: 0 });
          await aborted(context.signal);
          handlerSaw = context.signal.reason;
        },
      });
      const client = createRpcClient(DfdaemonUploadClient, await server.start());
      try {
        const stream = serverStream(client, "syncPieces", daemonUpload.SyncPiecesRequest.create({}));
        expect((await stream.next()).value).toMatchObject({ number: 0 });
        const ended = expect(stream.next()).rejects.toMatchObject({ code: "UNAVAILABLE", reason: "server-shutdown" });
        const started = Date.now();
        await server.stop({ graceMs: 150 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
        await ended;
        expect(handlerSaw).toMatchObject({ code: "UNAVAILABLE", reason: "server-shutdown" });
      } finally {
        client.close();
        await server.stop();
      }
    });
  });

  it("ends an open bidi stream with UNAVAILABLE", async () => {
    await withTempDir(async (dir) => {
      const server = createRpcServer({ address: addressIn(dir, transport) });
      server.addService(SchedulerService, {
        async *announcePeer(requests) {
          for await (const request of requests) yield scheduler.AnnouncePeerResponse.create({ peerId: request.peerId });
        },
      });
      const client = createRpcClient(SchedulerClient, await server.start());
      try {
        const call = bidiStream(client, "announcePeer");
        await call.write(scheduler.AnnouncePeerRequest.create({ peerId: "p" }));
        expect((await call.next()).value).toMatchObject({ peerId: "p" });
        const ended = expect(call.next()).rejects.toMatchObject({ code: "UNAVAILABLE" });
        await server.stop({ graceMs: 50 });
        await ended;
      } finally {
        client.close();
        await server.stop();
      }
    });
  });

  it("lets a call in progress finish within the grace period, then refuses new calls", async () => {
    await withTempDir(async (dir) => {
      const server = createRpcServer({ address: addressIn(dir, transport) });
      server.addService(SchedulerService, {
        statTask: async (request) => {
          await sleep(100);
          return scheduler.StatTaskResponse.create({ task: { id: request.taskId } });
        },
      });
      const bound = await server.start();
      const client = createRpcClient(SchedulerClient, bound);
      try {
        const inFlight = unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "t" }));
        await sleep(20);
        await server.stop({ graceMs: 5000 });
        expect((await inFlight).task?.id).toBe("t");
        await expect(
          unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "t" }), { deadlineMs: 2000 }),
        ).rejects.toMatchObject({ code: "UNAVAILABLE" });
        if (bound.kind === "unix") expect(existsSync(bound.path)).toBe(false);
      } finally {
        client.close();
        await server.stop();
      }
    });
  });
});

describe("server lifecycle", () => {
  it("reports the real port when bound to port 0, and stop is idempotent", async () => {
    const server = createRpcServer({ address: "tcp://127.0.0.1:0" });
    try {
      const bound = await server.start();
      expect(bound).toMatchObject({ kind: "tcp", host: "127.0.0.1" });
      expect(bound.kind === "tcp" && bound.port > 0).toBe(true);
      expect(server.address).toEqual(bound);
      expect(await server.start()).toEqual(bound);
    } finally {
      await server.stop();
      await server.stop();
    }
  });

  it("fails to start on a port in use with UNAVAILABLE", async () => {
    const first = createRpcServer({ address: "127.0.0.1:0" });
    const bound = await first.start();
    const second = createRpcServer({ address: bound });
    try {
      await expect(second.start()).rejects.toMatchObject({ code: "UNAVAILABLE", reason: "bind-failed" });
    } finally {
      await second.stop();
      await first.stop();
    }
  });
});
