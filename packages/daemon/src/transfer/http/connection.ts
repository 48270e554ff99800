import { connect, type Socket } from "node:net";
import { connect as connectTls, type ConnectionOptions } from "node:tls";
import { DfError, isDfError, toDfError } from "@df/interface";
import { parseResponseHead, protocolError, type ResponseHead } from "./response-head.js";

type State = "connecting" | "idle" | "head" | "body" | "closed";

/** HTTPS to a parent: the member CA that signs its certificate, and our own certificate and key. */
export interface PieceTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

interface Pending<T> {
  resolve(value: T): void;
  reject(error: DfError): void;
}

/** Response heads larger than this are refused; ours are a few hundred bytes. */
const SCRATCH_BYTES = 64 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n");

/**
 * One kept-alive HTTP/1.1 connection to a parent's piece server, one request at a
 * time. Body bytes are read by the kernel straight into the caller's buffer (net's
 * `onread`), so a piece costs no per-chunk allocation and no copy in JavaScript. On
 * loopback that took a 1 GiB pull into storage from ~420 MB/s with a stock undici Pool
 * to ~630 MB/s, and the transport alone to ~900 MB/s (bench/transfer.mjs).
 *
 * net decides where the next read lands when the previous one is handled, so the
 * first read after a pause goes to the scratch buffer and is copied from there; every
 * later one goes straight to the target.
 */
export class PieceConnection {
  readonly #socket: Socket;
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  #state: State = "connecting";
  #failure: DfError | undefined;
  /** Where the read in progress lands: the scratch buffer or the target. */
  #landing: "scratch" | "target" = "scratch";
  #headLength = 0;
  #head: Pending<ResponseHead> | undefined;
  /** Body bytes read but not yet handed over (they came with the head, or after a pause). */
  #leftover: Buffer | undefined;
  #bodyRemaining = 0;
  #keepAlive = false;
  #target: Uint8Array | undefined;
  #filled = 0;
  #fill: Pending<void> | undefined;
  /** Told of every body byte the current fill takes in (progress, not only whole chunks). */
  #progress: ((bytes: number) => void) | undefined;
  #connected: Promise<void>;
  /** Bytes of the current response seen so far: none means a reused connection died idle. */
  #responseBytes = 0;
  #onClose: (() => void) | undefined;

  constructor(host: string, port: number, tls?: PieceTls) {
    const onread = { buffer: () => this.#nextBuffer(), callback: (n: number) => this.#onRead(n) };
    // With TLS, onread receives the decrypted bytes, so a body still lands in the target.
    // The parent's certificate is checked against the CA and against `host` (an IP: its
    // certificate carries the IP in an IP SAN; no server name is sent for an IP).
    this.#socket = tls
      ? // tls.connect takes onread (see Node's tls docs) though @types/node does not list it.
        connectTls({ host, port, ca: tls.ca, cert: tls.cert, key: tls.key, onread } as ConnectionOptions).setNoDelay(true)
      : connect({ host, port, noDelay: true, onread });
    this.#connected = new Promise<void>((resolve, reject) => {
      this.#socket.once(tls ? "secureConnect" : "connect", () => {
        if (this.#state === "connecting") this.#state = "idle";
        resolve();
      });
      this.#socket.once("close", () => reject(this.#failure ?? closedError("before it was established")));
    });
    this.#connected.catch(() => {});
    this.#socket.on("error", (error) => this.#fail(toDfError(error, "UNAVAILABLE")));
    this.#socket.on("end", () => this.#fail(closedError(this.#responseBytes > 0 ? "in the middle of a response" : "by the parent")));
    this.#socket.on("close", () => {
      this.#fail(closedError("by the parent"));
      this.#onClose?.();
    });
  }

  /** Resolves once connected; fails with UNAVAILABLE (refused, reset) or on abort/timeout. */
  async ready(signal: AbortSignal, timeoutMs: number): Promise<void> {
    const timer = setTimeout(
      () => this.destroy(new DfError("UNAVAILABLE", `could not connect to the parent within ${timeoutMs} ms`, { reason: "connect-timeout" })),
      timeoutMs,
    );
    const stop = this.#watch(signal);
    try {
      await this.#connected;
    } finally {
      clearTimeout(timer);
      stop();
    }
  }

  /** Idle: connected, no response in flight, nothing unread. */
  get idle(): boolean {
    return this.#state === "idle";
  }

  get closed(): boolean {
    return this.#state === "closed";
  }

  /** True when the current response has not produced a single byte yet. */
  get silent(): boolean {
    return this.#responseBytes === 0;
  }

  /** Called once when the socket closes (the pool forgets the connection). */
  onClose(listener: () => void): void {
    this.#onClose = listener;
  }

  /** Sends a GET and resolves with the response head; the body is read with `fill`. */
  request(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<ResponseHead> {
    if (this.#state !== "idle") return Promise.reject(this.#failure ?? new DfError("INTERNAL", `the connection is ${this.#state}, not idle`));
    this.#state = "head";
    this.#headLength = 0;
    this.#responseBytes = 0;
    let text = `GET ${path} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) text += `${name}: ${value.replace(/[\r\n]/g, "")}\r\n`;
    const done = new Promise<ResponseHead>((resolve, reject) => (this.#head = { resolve, reject }));
    this.#socket.write(`${text}\r\n`);
    // Reading may still be paused from the last response (its body ended in a leftover).
    this.#socket.resume();
    return this.#guard(done, signal);
  }

  /** Bytes of the response body not read yet. */
  get bodyRemaining(): number {
    return this.#bodyRemaining;
  }

  /**
   * Fills `target` (at most `bodyRemaining` bytes) with the next body bytes; `progress`
   * hears of them as they arrive, so a slow but flowing parent is seen to flow.
   */
  fill(target: Uint8Array, signal: AbortSignal, progress?: (bytes: number) => void): Promise<void> {
    if (this.#state !== "body" || target.byteLength === 0 || target.byteLength > this.#bodyRemaining) {
      return Promise.reject(this.#failure ?? new DfError("INTERNAL", `cannot read ${target.byteLength} body bytes with ${this.#bodyRemaining} left in state ${this.#state}`));
    }
    this.#target = target;
    this.#filled = 0;
    this.#progress = progress;
    this.#drainLeftover();
    if (this.#filled === target.byteLength) {
      this.#finishFill();
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve, reject) => (this.#fill = { resolve, reject }));
    this.#socket.resume();
    return this.#guard(done, signal);
  }

  /** Closes the connection; anything waiting fails with `error` (default CANCELLED). Idempotent. */
  destroy(error?: DfError): void {
    this.#fail(error ?? new DfError("CANCELLED", "the connection to the parent was closed"));
    this.#socket.destroy();
  }

  #nextBuffer(): Uint8Array {
    if (this.#state === "body" && this.#target && this.#filled < this.#target.byteLength) {
      this.#landing = "target";
      return this.#target.subarray(this.#filled);
    }
    this.#landing = "scratch";
    if (this.#state === "head" && this.#headLength < this.#scratch.byteLength) return this.#scratch.subarray(this.#headLength);
    return this.#scratch;
  }

  /** Returns false to pause reading: nobody wants more bytes now. */
  #onRead(n: number): boolean {
    this.#responseBytes += n;
    try {
      if (this.#landing === "target") {
        this.#filled += n;
        this.#bodyRemaining -= n;
        this.#progress?.(n);
      } else if (this.#state === "head") {
        return this.#onHeadBytes(n);
      } else if (this.#state === "body") {
        this.#onScratchBody(this.#scratch.subarray(0, n));
      } else {
        throw protocolError(`${n} byte(s) arrived while no response was expected`);
      }
      if (this.#target && this.#filled === this.#target.byteLength) {
        this.#finishFill();
        return this.#state === "idle";
      }
      return true;
    } catch (error) {
      this.destroy(toDfError(error));
      return false;
    }
  }

  #onHeadBytes(n: number): boolean {
    const start = Math.max(0, this.#headLength - 3);
    this.#headLength += n;
    const end = this.#scratch.subarray(0, this.#headLength).indexOf(CRLFCRLF, start);
    if (end < 0) {
      if (this.#headLength >= this.#scratch.byteLength) throw protocolError(`the response head is larger than ${SCRATCH_BYTES} bytes`);
      return true;
    }
    const head = parseResponseHead(this.#scratch.toString("latin1", 0, end));
    this.#keepAlive = head.keepAlive;
    this.#bodyRemaining = head.contentLength ?? 0;
    const extra = this.#headLength - end - 4;
    if (extra > this.#bodyRemaining) throw protocolError(`${extra} byte(s) came after a body of ${this.#bodyRemaining}`);
    this.#leftover = extra > 0 ? Buffer.from(this.#scratch.subarray(end + 4, this.#headLength)) : undefined;
    this.#state = this.#bodyRemaining > 0 ? "body" : head.keepAlive ? "idle" : "closed";
    if (this.#state === "closed") this.#socket.end();
    const pending = this.#head;
    this.#head = undefined;
    pending?.resolve(head);
    // Paused until the body is asked for, so its bytes can go straight to the target.
    return this.#state === "idle";
  }

  /** Body bytes that landed in the scratch buffer: into the target, the rest kept for later. */
  #onScratchBody(bytes: Buffer): void {
    const kept = this.#leftover ? this.#leftover.byteLength : 0;
    if (kept + bytes.byteLength > this.#bodyRemaining) throw protocolError(`more bytes came than the ${this.#bodyRemaining} left of the body`);
    this.#leftover = this.#leftover ? Buffer.concat([this.#leftover, bytes]) : Buffer.from(bytes);
    this.#drainLeftover();
  }

  #drainLeftover(): void {
    const target = this.#target;
    const leftover = this.#leftover;
    if (!target || !leftover) return;
    const n = Math.min(leftover.byteLength, target.byteLength - this.#filled);
    target.set(leftover.subarray(0, n), this.#filled);
    this.#filled += n;
    this.#bodyRemaining -= n;
    this.#leftover = n < leftover.byteLength ? leftover.subarray(n) : undefined;
    if (n > 0) this.#progress?.(n);
  }

  #finishFill(): void {
    this.#target = undefined;
    this.#progress = undefined;
    if (this.#bodyRemaining === 0) {
      this.#state = this.#keepAlive ? "idle" : "closed";
      // Idle, it keeps reading so that the parent closing it is noticed at once.
      if (this.#state === "closed") this.#socket.end();
      else this.#socket.resume();
    }
    const pending = this.#fill;
    this.#fill = undefined;
    pending?.resolve();
  }

  #fail(error: DfError): void {
    if (this.#state === "closed" && this.#failure) return;
    this.#state = "closed";
    this.#failure ??= error;
    const head = this.#head;
    const fill = this.#fill;
    this.#head = undefined;
    this.#fill = undefined;
    this.#progress = undefined;
    head?.reject(this.#failure);
    fill?.reject(this.#failure);
  }

  /** Fails the wait when the signal aborts, closing the connection (its response is lost). */
  async #guard<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
    const stop = this.#watch(signal);
    try {
      return await promise;
    } finally {
      stop();
    }
  }

  #watch(signal: AbortSignal): () => void {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      this.destroy(isDfError(reason) ? reason : new DfError("CANCELLED", "the piece request was cancelled", { cause: reason }));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  }
}

function closedError(when: string): DfError {
  return new DfError("UNAVAILABLE", `the connection to the parent was closed ${when}`, { reason: "connection-closed" });
}
