import { describe, expect, it } from "vitest";
import { type DfError } from "@df/interface";
import { bidiStream, daemonUpload, scheduler, serverStream, unary } from "./index.js";
import { aborted, sleep, TRANSPORTS, withService } from "./test-support/harness.js";

const { SchedulerService, SchedulerClient } = scheduler;
const { DfdaemonUploadService, DfdaemonUploadClient } = daemonUpload;

/** A handler that never answers on its own and reports how its call ended. */
function hangingUnary() {
  let seen: (reason: unknown) => void = () => {};
  const serverSaw = new Promise<unknown>((resolve) => (seen = resolve));
  return {
    serverSaw,
    handler: async (_request: unknown, context: { signal: AbortSignal }): Promise<never> => {
      await aborted(context.signal);
      seen(context.signal.reason);
      throw context.signal.reason;
    },
  };
}

/** An endless piece stream that reports when its call was cancelled. */
function endlessPieces() {
  let seen: (reason: unknown) => void = () => {};
  const serverSaw = new Promise<unknown>((resolve) => (seen = resolve));
  return {
    serverSaw,
    async *syncPieces(_request: daemonUpload.SyncPiecesRequest, context: { signal: AbortSignal }) {
      context.signal.addEventListener("abort", () => seen(context.signal.reason));
      for (let number = 0; ; number++) {
        yield daemonUpload.SyncPiecesResponse.create({ number });
        await sleep(5);
      }
    },
  };
}

describe.each(TRANSPORTS)("deadlines and cancellation over %s", (transport) => {
  it("fails a unary call past its deadline with DEADLINE_EXCEEDED, and aborts the handler", async () => {
    const { handler, serverSaw } = hangingUnary();
    await withService(transport, SchedulerService, { statTask: handler }, SchedulerClient, async ({ client }) => {
      const started = Date.now();
      await expect(
        unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "t" }), { deadlineMs: 150 }),
      ).rejects.toMatchObject({ name: "DfError", code: "DEADLINE_EXCEEDED" });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(await serverSaw).toMatchObject({ code: "CANCELLED" });
    });
  });

  it("applies the client's default deadline to unary calls", async () => {
    const { handler } = hangingUnary();
    await withService(
      transport,
      SchedulerService,
      { statTask: handler },
      SchedulerClient,
      async ({ client }) => {
        await expect(
          unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "t" })),
        ).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
      },
      { client: { defaultDeadlineMs: 100 } },
    );
  });

  it("cancels a unary call when its signal aborts", async () => {
    const { handler, serverSaw } = hangingUnary();
    await withService(transport, SchedulerService, { statTask: handler }, SchedulerClient, async ({ client }) => {
      const controller = new AbortController();
      const call = unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "t" }), {
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 50);
      await expect(call).rejects.toMatchObject({ code: "CANCELLED" });
      expect(await serverSaw).toMatchObject({ code: "CANCELLED" });
    });
  });

  it("refuses a unary call whose signal is already aborted, with the signal's reason", async () => {
    await withService(transport, SchedulerService, {}, SchedulerClient, async ({ client }) => {
      const call = unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "t" }), {
        signal: AbortSignal.abort(),
      });
      await expect(call).rejects.toMatchObject({ code: "CANCELLED" });
      const timedOut = AbortSignal.timeout(1);
      await sleep(10);
      await expect(
        unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "t" }), { signal: timedOut }),
      ).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
    });
  });

  it("ends a server stream with CANCELLED when its signal aborts mid-stream", async () => {
    const service = endlessPieces();
    await withService(transport, DfdaemonUploadService, service, DfdaemonUploadClient, async ({ client }) => {
      const controller = new AbortController();
      const received: number[] = [];
      const read = (async () => {
        for await (const piece of serverStream(client, "syncPieces", daemonUpload.SyncPiecesRequest.create({}), {
          signal: controller.signal,
        })) {
          received.push(piece.number);
          if (received.length === 3) controller.abort();
        }
      })();
      await expect(read).rejects.toMatchObject({ code: "CANCELLED" });
      expect(received).toEqual([0, 1, 2]);
      expect(await service.serverSaw).toMatchObject({ code: "CANCELLED" });
    });
  });

  it("cancels the call when the consumer leaves a server stream early", async () => {
    const service = endlessPieces();
    await withService(transport, DfdaemonUploadService, service, DfdaemonUploadClient, async ({ client }) => {
      for await (const piece of serverStream(client, "syncPieces", daemonUpload.SyncPiecesRequest.create({}))) {
        if (piece.number === 1) break;
      }
      expect(await service.serverSaw).toMatchObject({ code: "CANCELLED" });
    });
  });

  it("fails a server stream past an explicit deadline with DEADLINE_EXCEEDED", async () => {
    const service = endlessPieces();
    await withService(transport, DfdaemonUploadService, service, DfdaemonUploadClient, async ({ client }) => {
      let count = 0;
      const read = (async () => {
        for await (const _piece of serverStream(client, "syncPieces", daemonUpload.SyncPiecesRequest.create({}), {
          deadlineMs: 300,
        })) {
          count++;
        }
      })();
      await expect(read).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
      expect(count).toBeGreaterThan(0);
    });
  });

  it("cancels a bidi stream on abort: reads and later writes fail with CANCELLED", async () => {
    let serverSaw: (reason: unknown) => void = () => {};
    const sawCancel = new Promise<unknown>((resolve) => (serverSaw = resolve));
    await withService(
      transport,
      SchedulerService,
      {
        async *announcePeer(requests, context) {
          context.signal.addEventListener("abort", () => serverSaw(context.signal.reason));
          for await (const request of requests) {
            yield scheduler.AnnouncePeerResponse.create({ peerId: request.peerId });
          }
        },
      },
      SchedulerClient,
      async ({ client }) => {
        const controller = new AbortController();
        const call = bidiStream(client, "announcePeer", { signal: controller.signal });
        await call.write(scheduler.AnnouncePeerRequest.create({ peerId: "p" }));
        expect((await call.next()).value).toMatchObject({ peerId: "p" });
        const pending = call.next();
        controller.abort();
        await expect(pending).rejects.toMatchObject({ code: "CANCELLED" });
        const write = call.write(scheduler.AnnouncePeerRequest.create({ peerId: "p" }));
        await expect(write).rejects.toMatchObject({ code: "CANCELLED" });
        expect(((await sawCancel) as DfError).code).toBe("CANCELLED");
      },
    );
  });
});
