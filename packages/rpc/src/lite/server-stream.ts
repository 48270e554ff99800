import { connect as connectHttp2, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { connect as connectNet } from "node:net";
import { DfError, errorMessage, isDfError, isErrorCode, type ErrorCode } from "@df/interface/errors";
import { ERROR_METADATA, parseErrorDetails } from "../error-trailers.js";
import { MAX_MESSAGE_BYTES } from "../limits.js";
import { errorCodeOfStatus } from "../status-table.js";

/**
 * One gRPC server-streaming call over node:http2, for dfget's single DownloadTask call:
 * dfget is a short-lived process, and loading @grpc/grpc-js cost it ~40 ms of its
 * ~110 ms start. It speaks the subset of gRPC the daemon's grpc-js server needs
 * (identity encoding, length-prefixed messages, status in trailers) and maps failures
 * with @df/rpc's own table and trailers (status-table.ts, error-trailers.ts): the
 * `df-code`/`df-reason`/`df-details-bin` trailers give the DfError, else the gRPC
 * status. Failing before any answer is UNAVAILABLE, as with grpc-js.
 */
export interface ServerStreamCall {
  /** `unix:/path`, `unix:///path`, `/path`, `host:port`, `[v6]:port` or `tcp://host:port`. */
  endpoint: string;
  /** `/package.Service/Method`. */
  path: string;
  /** The encoded request message. */
  request: Uint8Array;
  signal?: AbortSignal;
  /** DEADLINE_EXCEEDED after this long (also sent as `grpc-timeout`). */
  deadlineMs?: number;
}


/**
 * The reason of a failure to reach the daemon or of losing the connection to it, as
 * opposed to a failure the daemon reported (in trailers), which keeps the daemon's own.
 */
export const UNREACHABLE = "daemon-unreachable";

/**
 * Buffers for joining messages, given back once the caller is done with a message. A few
 * are kept (the queue holds about QUEUE_LIMIT_BYTES of messages); sizes round up to a
 * power of two so that a stream of similar messages reuses the same ones.
 */
class BufferPool {
  readonly #free: Buffer[] = [];

  take(size: number): Buffer {
    const at = this.#free.findIndex((buffer) => buffer.byteLength >= size);
    if (at >= 0) return this.#free.splice(at, 1)[0] as Buffer;
    return Buffer.allocUnsafeSlow(2 ** Math.ceil(Math.log2(Math.max(size, 4096))));
  }

  give(buffer: Buffer): void {
    if (this.#free.length < 4) this.#free.push(buffer);
  }
}

/** See `queuedBytes` in serverStreamCall: one message of piece content, and a bit. */
const QUEUE_LIMIT_BYTES = 2 * 2 ** 20;

/**
 * Calls `path` and yields each response message (still encoded) as it arrives; ends
 * after the last one when the status is OK, else throws the call's DfError (after the
 * messages sent before it). Leaving the loop early cancels the call.
 *
 * A yielded message's bytes (and anything decoded from it without copying, such as
 * `bytes` fields) are valid only until the next message is asked for: messages that
 * span HTTP/2 frames are joined in reused buffers, so streaming piece content makes no
 * garbage of its own (V8 collects big external buffers late: fresh ones per MiB cost
 * dfget -O - tens of MB of RSS). Copy what must outlive the iteration.
 */
export async function* serverStreamCall(call: ServerStreamCall): AsyncGenerator<Buffer, void, undefined> {
  const what = call.path;
  const messages: Array<{ message: Buffer; pooled?: Buffer }> = [];
  const pool = new BufferPool();
  // Bytes of whole messages the caller has not taken yet. Past QUEUE_LIMIT_BYTES the
  // HTTP/2 stream is paused, so node stops granting the daemon flow-control window and
  // a slow consumer (dfget -O - into a slow pipe) slows the daemon instead of filling
  // this process's memory.
  let queuedBytes = 0;
  let done = false;
  let failure: DfError | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const fail = (error: DfError): void => {
    if (done) return;
    failure ??= error;
    done = true;
    notify();
  };

  let session: ClientHttp2Session;
  try {
    session = openSession(call.endpoint);
  } catch (error) {
    throw isDfError(error) ? error : unavailable(call.endpoint, error);
  }
  session.on("error", (error) => fail(unavailable(call.endpoint, error)));
  session.on("close", () => fail(unavailable(call.endpoint, "the connection closed before the call ended")));

  const headers: Record<string, string> = {
    ":method": "POST",
    ":path": call.path,
    "content-type": "application/grpc",
    te: "trailers",
    "grpc-accept-encoding": "identity",
    "user-agent": "dfget grpc-lite",
  };
  if (call.deadlineMs !== undefined) headers["grpc-timeout"] = `${Math.max(1, Math.ceil(call.deadlineMs))}m`;
  let stream: ClientHttp2Stream | undefined;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    fail(abortError(call.signal as AbortSignal, what));
    stream?.close(0x8 /* CANCEL */);
  };
  try {
    if (call.signal?.aborted) throw abortError(call.signal, what);
    call.signal?.addEventListener("abort", onAbort, { once: true });
    if (call.deadlineMs !== undefined) {
      timer = setTimeout(() => {
        fail(new DfError("DEADLINE_EXCEEDED", `${what}: deadline exceeded after ${call.deadlineMs} ms`, { reason: "call-deadline" }));
        stream?.close(0x8);
      }, call.deadlineMs);
    }
    stream = session.request(headers, { endStream: false });
    const frame = Buffer.allocUnsafe(5 + call.request.byteLength);
    frame[0] = 0;
    frame.writeUInt32BE(call.request.byteLength, 1);
    frame.set(call.request, 5);
    stream.end(frame);

    // Received bytes not yet making a whole message; joined once per message, not per chunk.
    let parts: Buffer[] = [];
    let buffered = 0;
    // The first `total` buffered bytes as one buffer from the pool, leaving the rest in parts.
    const join = (total: number): Buffer => {
      const target = pool.take(total);
      let filled = 0;
      while (filled < total) {
        const part = parts[0] as Buffer;
        const take = Math.min(part.byteLength, total - filled);
        part.copy(target, filled, 0, take);
        filled += take;
        if (take === part.byteLength) parts.shift();
        else parts[0] = part.subarray(take);
      }
      buffered -= total;
      return target;
    };
    let status: IncomingHttpHeaders | undefined;
    const parse = (chunk: Buffer): void => {
      parts.push(chunk);
      buffered += chunk.byteLength;
      while (buffered >= 5) {
        if ((parts[0] as Buffer).byteLength < 5) parts = [Buffer.concat(parts, buffered)];
        const head = parts[0] as Buffer;
        if (head[0] !== 0) throw protocol(`a compressed message came (flag ${head[0]}), but none was asked for`);
        const length = head.readUInt32BE(1);
        if (length > MAX_MESSAGE_BYTES) throw new DfError("RESOURCE_EXHAUSTED", `${what}: a message of ${length} bytes exceeds the limit of ${MAX_MESSAGE_BYTES}`);
        if (buffered < 5 + length) break;
        queuedBytes += length;
        if (parts.length === 1) {
          messages.push({ message: head.subarray(5, 5 + length) });
          const rest = head.subarray(5 + length);
          parts = rest.byteLength > 0 ? [rest] : [];
          buffered = rest.byteLength;
        } else {
          const pooled = join(5 + length);
          messages.push({ message: pooled.subarray(5, 5 + length), pooled });
        }
      }
    };
    stream.on("response", (head) => {
      if (head[":status"] !== 200) {
        fail(new DfError(head[":status"] === 503 ? "UNAVAILABLE" : "INTERNAL", `${what}: the daemon answered HTTP ${String(head[":status"])}`));
        return;
      }
      // A trailers-only answer puts the status in the headers.
      if (head["grpc-status"] !== undefined) status = head;
    });
    stream.on("data", (chunk: Buffer) => {
      if (done) return;
      try {
        parse(chunk);
      } catch (error) {
        fail(error as DfError);
        stream?.close(0x8);
        return;
      }
      if (queuedBytes >= QUEUE_LIMIT_BYTES) stream?.pause();
      notify();
    });
    stream.on("trailers", (trailers) => (status = trailers));
    stream.on("error", (error) => fail(unavailable(call.endpoint, error)));
    stream.on("close", () => {
      if (done) return;
      if (buffered > 0) fail(protocol(`the call ended in the middle of a message`));
      else if (!status) fail(new DfError("UNAVAILABLE", `${what}: the daemon ended the call without a status`, { reason: "call-no-status" }));
      else {
        const error = statusError(status, what);
        if (error) fail(error);
        else {
          done = true;
          notify();
        }
      }
    });

    for (;;) {
      const next = messages.shift();
      if (next) {
        queuedBytes -= next.message.byteLength;
        if (queuedBytes < QUEUE_LIMIT_BYTES && stream.isPaused()) stream.resume();
        yield next.message;
        // The caller asked for the next message: it is done with this one's bytes.
        if (next.pooled) pool.give(next.pooled);
        continue;
      }
      if (done) {
        if (failure) throw failure;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    clearTimeout(timer);
    call.signal?.removeEventListener("abort", onAbort);
    if (stream && !stream.closed) stream.close(0x8);
    session.close();
    // Nothing keeps the process waiting for the HTTP/2 goodbye.
    session.unref();
  }
}

function openSession(endpoint: string): ClientHttp2Session {
  const unix = endpoint.startsWith("unix://")
    ? endpoint.slice("unix://".length)
    : endpoint.startsWith("unix:")
      ? endpoint.slice("unix:".length)
      : endpoint.startsWith("/")
        ? endpoint
        : undefined;
  if (unix !== undefined) {
    if (!unix.startsWith("/")) throw new DfError("INVALID_ARGUMENT", `invalid address "${endpoint}": a unix socket path must be absolute`);
    return connectHttp2("http://localhost", { createConnection: () => connectNet(unix) });
  }
  const hostPort = endpoint.startsWith("tcp://") ? endpoint.slice("tcp://".length) : endpoint;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(hostPort) || !/:\d+$/.test(hostPort)) {
    throw new DfError("INVALID_ARGUMENT", `invalid address "${endpoint}": use unix:/path, host:port or tcp://host:port`);
  }
  return connectHttp2(`http://${hostPort}`);
}

/** The DfError a non-OK status stands for; undefined for OK. */
function statusError(headers: IncomingHttpHeaders, what: string): DfError | undefined {
  const number = Number(first(headers["grpc-status"]));
  if (number === 0) return undefined;
  const sent = first(headers[ERROR_METADATA.code]);
  const code: ErrorCode = isErrorCode(sent) ? sent : errorCodeOfStatus(number);
  const reason = first(headers[ERROR_METADATA.reason]);
  const encoded = first(headers[ERROR_METADATA.details]);
  const details = encoded === undefined ? undefined : parseErrorDetails(Buffer.from(encoded, "base64").toString("utf8"));
  const message = first(headers["grpc-message"]);
  let text = `${what}: status ${number}`;
  if (message) {
    try {
      text = decodeURIComponent(message);
    } catch {
      text = message;
    }
  }
  return new DfError(code, text, { ...(reason !== undefined ? { reason } : {}), ...(details !== undefined ? { details } : {}) });
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function abortError(signal: AbortSignal, what: string): DfError {
  const reason: unknown = signal.reason;
  if (isDfError(reason)) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") return new DfError("DEADLINE_EXCEEDED", `${what} timed out`, { reason: "call-deadline", cause: reason });
  return new DfError("CANCELLED", `${what} was cancelled`, { reason: "call-cancelled", cause: reason });
}

function unavailable(endpoint: string, error: unknown): DfError {
  const text = errorMessage(error);
  return new DfError("UNAVAILABLE", `cannot reach ${endpoint}: ${text}`, { reason: UNREACHABLE, cause: error });
}

function protocol(message: string): DfError {
  return new DfError("INTERNAL", `the daemon broke the gRPC protocol: ${message}`);
}
