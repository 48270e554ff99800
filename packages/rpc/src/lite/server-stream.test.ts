import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DfError } from "@df/interface/errors";
import { createRpcServer, daemonDownload, type CallContext, type RpcServer } from "../index.js";
import { serverStreamCall } from "./server-stream.js";

const PATH = "/df.daemon.download.v1.DfdaemonDownload/DownloadTask";
const { DownloadTaskRequest, DownloadTaskResponse } = daemonDownload;

/** How many messages the "flood" behaviour has produced so far. */
const produced = { count: 0 };

/** What the test server does, chosen by the request's URL. */
async function* behaviour(url: string, signal: AbortSignal): AsyncGenerator<daemonDownload.DownloadTaskResponse> {
  const [kind, arg] = url.split(":");
  if (kind === "pieces") {
    for (let n = 0; n < Number(arg); n++) {
      yield DownloadTaskResponse.create({ taskId: `t${n}`, response: { $case: "finished", value: { contentLength: n } } });
    }
    return;
  }
  if (kind === "big") {
    // One message far larger than an HTTP/2 frame or window.
    yield DownloadTaskResponse.create({
      taskId: "big",
      response: { $case: "pieceFinished", value: { piece: { number: 0, offset: 0, length: Number(arg), content: Buffer.alloc(Number(arg), 7) } } },
    });
    return;
  }
  if (kind === "flood") {
    // As many 1 MiB messages as the reader lets through; counts what it produced.
    for (let n = 0; n < Number(arg); n++) {
      produced.count = n + 1;
      yield DownloadTaskResponse.create({
        taskId: `f${n}`,
        response: { $case: "pieceFinished", value: { piece: { number: n, offset: n * 2 ** 20, length: 2 ** 20, content: Buffer.alloc(2 ** 20, n) } } },
      });
    }
    return;
  }
  if (kind === "fail") {
    yield DownloadTaskResponse.create({ taskId: "before" });
    throw new DfError("NOT_FOUND", "the origin said 404 ✗", { reason: "source-not-found", details: { status: 404, url: "http://x/ü" } });
  }
  if (kind === "hang") {
    yield DownloadTaskResponse.create({ taskId: "hanging" });
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  }
}

let dir: string;
let server: RpcServer;
let socket: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-grpc-lite-"));
  socket = join(dir, "d.sock");
  server = createRpcServer({ address: `unix:${socket}` });
  server.addService(daemonDownload.DfdaemonDownloadService, {
    downloadTask: (request: daemonDownload.DownloadTaskRequest, context: CallContext) => behaviour(request.download?.url ?? "", context.signal),
  } as never);
  await server.start();
});

afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function call(url: string, options: { signal?: AbortSignal; deadlineMs?: number; endpoint?: string } = {}) {
  return serverStreamCall({
    endpoint: options.endpoint ?? socket,
    path: PATH,
    request: DownloadTaskRequest.encode(DownloadTaskRequest.create({ download: { url } })).finish(),
    ...options,
  });
}

async function collect(url: string, options: Parameters<typeof call>[1] = {}): Promise<daemonDownload.DownloadTaskResponse[]> {
  const out: daemonDownload.DownloadTaskResponse[] = [];
  for await (const bytes of call(url, options)) out.push(DownloadTaskResponse.decode(bytes));
  return out;
}

describe("dfget's small gRPC client against a grpc-js server", () => {
  it("reads every message of a server stream in order, on every address form", async () => {
    for (const endpoint of [socket, `unix:${socket}`, `unix://${socket}`]) {
      const messages = await collect("pieces:50", { endpoint });
      expect(messages.map((m) => m.taskId)).toEqual(Array.from({ length: 50 }, (_, n) => `t${n}`));
    }
    expect(await collect("pieces:0")).toEqual([]);
  });

  it("reassembles a message split over many frames", async () => {
    const [message] = await collect(`big:${5 * 1024 * 1024 + 3}`);
    const piece = message?.response?.$case === "pieceFinished" ? message.response.value.piece : undefined;
    expect(piece?.content?.byteLength).toBe(5 * 1024 * 1024 + 3);
    expect(piece?.content?.every((b) => b === 7)).toBe(true);
  });

  it("holds the server back while the reader is slow: a few MiB in flight, never the whole stream", async () => {
    const stream = call("flood:40");
    let read = 0;
    for await (const bytes of stream) {
      const message = DownloadTaskResponse.decode(bytes);
      const piece = message.response?.$case === "pieceFinished" ? message.response.value.piece : undefined;
      // Each message intact when its turn comes, though the buffers are reused.
      expect(piece?.content?.every((b) => b === read % 256)).toBe(true);
      read++;
      if (read === 3) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        // Read 3; the rest is at most the client's 2 MiB queue, the message being joined,
        // one in flight at the server and the one it prepared: never the 40 grpc-js and
        // an unbounded client would have let through.
        expect(produced.count).toBeLessThanOrEqual(3 + 6);
      }
    }
    expect(read).toBe(40);
  });

  it("ends with the server's DfError, code, reason and details intact, after the messages sent before it", async () => {
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const bytes of call("fail")) seen.push(DownloadTaskResponse.decode(bytes).taskId);
    })().catch((error: unknown) => error);
    expect(seen).toEqual(["before"]);
    expect(failure).toBeInstanceOf(DfError);
    expect(failure).toMatchObject({ code: "NOT_FOUND", reason: "source-not-found", message: "the origin said 404 ✗", details: { status: 404, url: "http://x/ü" } });
  });

  it("says UNAVAILABLE when nothing listens, and INVALID_ARGUMENT for a bad address", async () => {
    await expect(collect("pieces:1", { endpoint: join(dir, "nobody.sock") })).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await expect(collect("pieces:1", { endpoint: "127.0.0.1:1" })).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await expect(collect("pieces:1", { endpoint: "unix:relative.sock" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("fails with DEADLINE_EXCEEDED past the deadline and CANCELLED on abort", async () => {
    await expect(collect("hang", { deadlineMs: 200 })).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
    const stop = new AbortController();
    setTimeout(() => stop.abort(new DOMException("interrupted", "AbortError")), 100);
    await expect(collect("hang", { signal: stop.signal })).rejects.toMatchObject({ code: "CANCELLED" });
  });
});
