import { DfError } from "@df/interface";
import { PieceConnection, type PieceTls } from "./connection.js";

export interface BytePoolOptions {
  /** Connections to this parent at once (default 16); further requests wait for one. */
  maxConnections?: number;
  /** Longest TCP connect (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * An idle connection is closed after this long (default 30 s), before the server's
   * own keep-alive timeout (upload.idleTimeout, 65 s) could close it under a request.
   */
  idleTimeoutMs?: number;
  /** HTTPS with our member certificate (the daemon's `security.tls`); plain HTTP without. */
  tls?: PieceTls;
}

/** A connection lent by the pool. */
export interface Lease {
  readonly connection: PieceConnection;
  /** It was used before: if it dies before answering, the request may be retried once on a new one. */
  readonly reused: boolean;
}

interface Waiter {
  grant(lease: Lease): void;
  fail(error: DfError): void;
}

/** Kept-alive connections to one parent's piece server. */
export class BytePool {
  readonly host: string;
  readonly port: number;
  readonly #maxConnections: number;
  readonly #connectTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #tls: PieceTls | undefined;
  readonly #idle: { connection: PieceConnection; timer: NodeJS.Timeout }[] = [];
  readonly #waiters: Waiter[] = [];
  /** Every open connection, idle or lent. */
  readonly #all = new Set<PieceConnection>();
  #closed = false;

  constructor(host: string, port: number, options: BytePoolOptions = {}) {
    this.host = host;
    this.port = port;
    this.#maxConnections = options.maxConnections ?? 16;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.#tls = options.tls;
  }

  /** Connections open now (idle or lent). */
  get size(): number {
    return this.#all.size;
  }

  /** An idle connection, a new one while under the limit, or the next one given back. */
  async acquire(signal: AbortSignal): Promise<Lease> {
    if (this.#closed) throw closedPool();
    for (let entry = this.#idle.pop(); entry; entry = this.#idle.pop()) {
      clearTimeout(entry.timer);
      if (entry.connection.idle) return { connection: entry.connection, reused: true };
      entry.connection.destroy();
    }
    if (this.#all.size < this.#maxConnections) return { connection: await this.#connect(signal), reused: false };
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new DfError("CANCELLED", "stopped waiting for a connection to the parent", { cause: signal.reason }));
      };
      const waiter: Waiter = {
        grant: (lease) => {
          signal.removeEventListener("abort", onAbort);
          resolve(lease);
        },
        fail: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Gives a connection back: kept for the next request if it is idle, closed otherwise. */
  release(connection: PieceConnection): void {
    if (this.#closed || !connection.idle) {
      // Its close frees the slot for a waiter (see #connect).
      connection.destroy();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.grant({ connection, reused: true });
      return;
    }
    const timer = setTimeout(() => {
      const index = this.#idle.findIndex((entry) => entry.connection === connection);
      if (index >= 0) this.#idle.splice(index, 1);
      connection.destroy();
    }, this.#idleTimeoutMs);
    timer.unref();
    this.#idle.push({ connection, timer });
  }

  /** Closes every connection, idle or in use; requests in flight or waiting fail. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const { timer } of this.#idle.splice(0)) clearTimeout(timer);
    for (const connection of [...this.#all]) connection.destroy(closedPool());
    for (const waiter of this.#waiters.splice(0)) waiter.fail(closedPool());
  }

  async #connect(signal: AbortSignal): Promise<PieceConnection> {
    const connection = new PieceConnection(this.host, this.port, this.#tls);
    this.#all.add(connection);
    connection.onClose(() => {
      this.#all.delete(connection);
      const index = this.#idle.findIndex((entry) => entry.connection === connection);
      if (index >= 0) {
        clearTimeout(this.#idle[index]?.timer);
        this.#idle.splice(index, 1);
      }
      this.#grantNew();
    });
    await connection.ready(signal, this.#connectTimeoutMs);
    return connection;
  }

  /** A slot freed up: open a connection for the first waiter. */
  #grantNew(): void {
    if (this.#closed || this.#waiters.length === 0 || this.#all.size >= this.#maxConnections) return;
    const waiter = this.#waiters.shift() as Waiter;
    // The waiter's own abort still applies to its request; the connect itself is bounded by its timeout.
    this.#connect(new AbortController().signal).then(
      (connection) => waiter.grant({ connection, reused: false }),
      (error: DfError) => waiter.fail(error),
    );
  }
}

function closedPool(): DfError {
  return new DfError("CANCELLED", "the connections to this parent were closed: the daemon is stopping", { reason: "pool-closed" });
}
