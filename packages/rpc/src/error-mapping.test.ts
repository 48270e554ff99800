import { Metadata, type ServiceError } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { DfError, isDfError } from "@df/interface";
import { bidiStream, createRpcClient, daemonUpload, fromGrpcError, scheduler, serverStream, unary } from "./index.js";
import { TRANSPORTS, withService } from "./test-support/harness.js";

const { SchedulerService, SchedulerClient } = scheduler;
const { DfdaemonUploadService, DfdaemonUploadClient } = daemonUpload;

function rawUnary(
  client: { raw: scheduler.SchedulerClient },
  path: string,
  bytes: Buffer,
): Promise<ServiceError> {
  return new Promise((resolve, reject) => {
    client.raw.makeUnaryRequest(
      path,
      (value: Buffer) => value,
      (value: Buffer) => value,
      bytes,
      new Metadata(),
      {},
      (error: ServiceError | null) => (error ? resolve(error) : reject(new Error("the call succeeded"))),
    );
  });
}

describe.each(TRANSPORTS)("errors over %s", (transport) => {
  it("carries a DfError's code, reason, message and details to the client", async () => {
    await withService(
      transport,
      SchedulerService,
      {
        statTask(request) {
          throw new DfError("NOT_FOUND", `task ${request.taskId} is unknown`, {
            reason: "task-not-found",
            details: { taskId: request.taskId, peers: 0, note: "ünïcode ✓" },
          });
        },
      },
      SchedulerClient,
      async ({ client }) => {
        const error = await unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "abc" })).catch(
          (e: unknown) => e,
        );
        expect(isDfError(error)).toBe(true);
        expect(error).toMatchObject({
          code: "NOT_FOUND",
          reason: "task-not-found",
          message: "task abc is unknown",
          details: { taskId: "abc", peers: 0, note: "ünïcode ✓" },
        });
        expect((error as DfError).cause).toMatchObject({ code: 5 });
      },
    );
  });

  it("maps a plain thrown Error to INTERNAL", async () => {
    await withService(
      transport,
      SchedulerService,
      {
        statTask: async () => {
          throw new Error("boom");
        },
      },
      SchedulerClient,
      async ({ client }) => {
        await expect(unary(client, "statTask", scheduler.StatTaskRequest.create({}))).rejects.toMatchObject({
          code: "INTERNAL",
          message: "boom",
        });
      },
    );
  });

  it("delivers a server stream's items, then its error", async () => {
    await withService(
      transport,
      DfdaemonUploadService,
      {
        async *syncPieces() {
          yield daemonUpload.SyncPiecesResponse.create({ number: 0 });
          yield daemonUpload.SyncPiecesResponse.create({ number: 1 });
          throw new DfError("DATA_LOSS", "piece 2 failed its digest", { reason: "piece-digest-mismatch" });
        },
      },
      DfdaemonUploadClient,
      async ({ client }) => {
        const received: number[] = [];
        const read = (async () => {
          for await (const piece of serverStream(client, "syncPieces", daemonUpload.SyncPiecesRequest.create({}))) {
            received.push(piece.number);
          }
        })();
        await expect(read).rejects.toMatchObject({ code: "DATA_LOSS", reason: "piece-digest-mismatch" });
        expect(received).toEqual([0, 1]);
      },
    );
  });

  it("ends a bidi stream with the handler's error and fails later writes with it", async () => {
    await withService(
      transport,
      SchedulerService,
      {
        async *announcePeer(requests) {
          for await (const request of requests) {
            if (request.request?.$case !== "register") {
              throw new DfError("FAILED_PRECONDITION", "register first", { reason: "not-registered" });
            }
            yield scheduler.AnnouncePeerResponse.create({ response: { $case: "emptyTask", value: {} } });
          }
        },
      },
      SchedulerClient,
      async ({ client }) => {
        const call = bidiStream(client, "announcePeer");
        await call.write(
          scheduler.AnnouncePeerRequest.create({ request: { $case: "downloadStarted", value: {} } }),
        );
        await expect(call.next()).rejects.toMatchObject({ code: "FAILED_PRECONDITION", reason: "not-registered" });
        await expect(call.write(scheduler.AnnouncePeerRequest.create({}))).rejects.toMatchObject({
          code: "FAILED_PRECONDITION",
        });
      },
    );
  });

  it("answers a request that does not decode with INVALID_ARGUMENT, without calling the handler", async () => {
    let called = false;
    await withService(
      transport,
      SchedulerService,
      {
        statTask: () => {
          called = true;
          return scheduler.StatTaskResponse.create({});
        },
      },
      SchedulerClient,
      async ({ client }) => {
        // Field 2 (task_id) announced as length-delimited with 100 bytes that never come.
        const error = await rawUnary(client, SchedulerService.statTask.path, Buffer.from([0x12, 100, 0x61]));
        expect(fromGrpcError(error)).toMatchObject({ code: "INVALID_ARGUMENT", reason: "malformed-request" });
        expect(called).toBe(false);
      },
    );
  });

  it("answers an unknown method, and a method without a handler, with UNIMPLEMENTED", async () => {
    await withService(transport, SchedulerService, {}, SchedulerClient, async ({ client }) => {
      const unknown = await rawUnary(client, "/df.scheduler.v1.Scheduler/NoSuchMethod", Buffer.alloc(0));
      expect(unknown.code).toBe(12);
      await expect(unary(client, "statTask", scheduler.StatTaskRequest.create({}))).rejects.toMatchObject({
        code: "UNIMPLEMENTED",
      });
      await expect(
        unary(client, "noSuchMethod" as "statTask", scheduler.StatTaskRequest.create({})),
      ).rejects.toMatchObject({ code: "UNIMPLEMENTED", reason: "unknown-method" });
    });
  });

  it("refuses a response that cannot be encoded with INTERNAL rather than hanging", async () => {
    await withService(
      transport,
      SchedulerService,
      {
        // A hand-built object missing required scalars: encoding a uint64 from undefined fails.
        statTask: () => ({ task: { contentLength: -1 } }) as unknown as scheduler.StatTaskResponse,
      },
      SchedulerClient,
      async ({ client }) => {
        await expect(unary(client, "statTask", scheduler.StatTaskRequest.create({}))).rejects.toMatchObject({
          code: "INTERNAL",
        });
      },
    );
  });
});

describe("errors without a server", () => {
  it("fails a call to an address nobody listens on with UNAVAILABLE", async () => {
    const client = createRpcClient(SchedulerClient, "127.0.0.1:1");
    try {
      await expect(
        unary(client, "statTask", scheduler.StatTaskRequest.create({}), { deadlineMs: 5000 }),
      ).rejects.toMatchObject({ code: "UNAVAILABLE" });
    } finally {
      client.close();
    }
  });
});
