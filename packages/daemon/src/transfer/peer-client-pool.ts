import { isIPv6 } from "node:net";
import { DfError } from "@df/interface";
import { createRpcClient, daemonUpload, type MemberTls, type RpcClient } from "@df/rpc";
import { BytePool } from "./http/byte-pool.js";

export type UploadClient = RpcClient<typeof daemonUpload.DfdaemonUploadService, daemonUpload.DfdaemonUploadClient>;

export interface PeerClientPoolOptions {
  /** Kept-alive connections per parent byte port (default 16; 8 pieces in flight need 8). */
  connectionsPerParent?: number;
  /** Clients nobody holds are closed after this long unused (default 5 min). */
  idleTimeoutMs?: number;
  /** Longest TCP connect to a parent's byte port (default 10 s). */
  connectTimeoutMs?: number;
  /** mTLS to parents' upload gRPC and HTTPS piece ports (the daemon's `security.tls`); plaintext without. */
  tls?: MemberTls;
}

/** A client held by one download; `release` lets the pool close it once idle. */
export interface Held<T> {
  readonly client: T;
  release(): void;
}

interface Entry<T> {
  client: T;
  holders: number;
  lastUsed: number;
  close(): Promise<void>;
}

const DEFAULT_CONNECTIONS = 16;
const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Connections to parents, shared by every task of the daemon: one gRPC channel per
 * parent upload address (SyncPieces, DownloadPiece) and one pool of kept-alive HTTP
 * connections per parent byte address, reused across pieces and tasks. The daemon
 * closes it on stop.
 */
export class PeerClientPool {
  readonly #options: Required<Omit<PeerClientPoolOptions, "tls">>;
  readonly #tls: MemberTls | undefined;
  readonly #upload = new Map<string, Entry<UploadClient>>();
  readonly #bytes = new Map<string, Entry<BytePool>>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(options: PeerClientPoolOptions = {}) {
    this.#options = {
      connectionsPerParent: options.connectionsPerParent ?? DEFAULT_CONNECTIONS,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    };
    this.#tls = options.tls;
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(1000, this.#options.idleTimeoutMs / 2));
    this.#sweeper.unref();
  }

  /** The DfdaemonUpload client of the parent at `ip:port`. */
  upload(ip: string, port: number): Held<UploadClient> {
    return this.#hold(this.#upload, `${host(ip)}:${port}`, (key) => {
      const client = createRpcClient(daemonUpload.DfdaemonUploadClient, key, this.#tls ? { tls: this.#tls.client } : {});
      return { client, close: async () => client.close() };
    });
  }

  /** The connections to the parent's piece-byte server at `ip:port`. */
  bytes(ip: string, port: number): Held<BytePool> {
    return this.#hold(this.#bytes, `${host(ip)}:${port}`, () => {
      const pool = new BytePool(ip, port, {
        maxConnections: this.#options.connectionsPerParent,
        connectTimeoutMs: this.#options.connectTimeoutMs,
        ...(this.#tls ? { tls: this.#tls } : {}),
      });
      return { client: pool, close: async () => pool.close() };
    });
  }

  /** Closes every client; downloads still using them fail with CANCELLED or UNAVAILABLE. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    const entries = [...this.#upload.values(), ...this.#bytes.values()];
    this.#upload.clear();
    this.#bytes.clear();
    await Promise.all(entries.map((entry) => entry.close()));
  }

  #hold<T>(map: Map<string, Entry<T>>, key: string, make: (key: string) => { client: T; close(): Promise<void> }): Held<T> {
    if (this.#closed) throw new DfError("CANCELLED", "the peer client pool is closed: the daemon is stopping", { reason: "pool-closed" });
    let entry = map.get(key);
    if (!entry) {
      entry = { ...make(key), holders: 0, lastUsed: performance.now() };
      map.set(key, entry);
    }
    const held = entry;
    held.holders++;
    let released = false;
    return {
      client: held.client,
      release: () => {
        if (released) return;
        released = true;
        held.holders--;
        held.lastUsed = performance.now();
      },
    };
  }

  #sweep(): void {
    const now = performance.now();
    for (const map of [this.#upload, this.#bytes] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of map) {
        if (entry.holders === 0 && now - entry.lastUsed >= this.#options.idleTimeoutMs) {
          map.delete(key);
          void entry.close();
        }
      }
    }
  }
}

function host(ip: string): string {
  return isIPv6(ip) ? `[${ip}]` : ip;
}
