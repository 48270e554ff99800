import { DfError, isDfError } from "@df/interface";
import { TokenBucket } from "@df/rate-limit";

export interface UploadLimiterOptions {
  /** Piece uploads served at once (default 200); announced to the scheduler as the host's limit. */
  concurrency?: number;
  /** Upload bandwidth cap in bytes per second, shared by every upload; unset means unlimited. */
  rateLimit?: number;
  /**
   * How long an upload may wait for a free slot before it is refused as busy (default
   * 2000 ms). A short queue absorbs bursts; a refusal sends the child to another parent.
   */
  queueTimeoutMs?: number;
}

/** One admitted upload. */
export interface UploadSlot {
  /** Waits until `bytes` more may be sent under the rate limit (at once when unlimited). */
  throttle(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Counts the bytes as sent (for the host's tx bandwidth). */
  sent(bytes: number): void;
  /** Frees the slot and counts the upload as served or failed. Idempotent. */
  release(ok: boolean): void;
}

/** A snapshot of the upload load, as SyncHost and AnnounceHost report it. */
export interface UploadLoad {
  concurrentUploadLimit: number;
  concurrentUploadCount: number;
  uploadCount: number;
  uploadFailedCount: number;
  /** Open piece-byte connections. */
  connectionCount: number;
  /** Bits per second sent during the last full second. */
  txBandwidth: number;
  /** The rate limit in bits per second, 0 when unlimited (children then assume 10 Gbit/s). */
  maxTxBandwidth: number;
}

interface Waiter {
  admit: () => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_CONCURRENCY = 200;
const DEFAULT_QUEUE_TIMEOUT_MS = 2000;

/**
 * Admission and bandwidth for piece uploads, shared by every byte transport of the host
 * (gRPC DownloadPiece and the HTTP byte server) so the limits hold across both.
 */
export class UploadLimiter {
  #limit: number;
  readonly rateLimit: number | undefined;
  readonly queueTimeoutMs: number;
  readonly #bucket: TokenBucket | undefined;
  readonly #queue: Waiter[] = [];
  #active = 0;
  #peak = 0;
  #uploads = 0;
  #failed = 0;
  #bytes = 0;
  #connections = 0;
  /** Bytes sent per whole second: [second, bytes] for the current and the previous one. */
  #second = 0;
  #bytesThisSecond = 0;
  #bytesLastSecond = 0;

  constructor(options: UploadLimiterOptions = {}) {
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    checkLimit(concurrency);
    this.#limit = concurrency;
    this.rateLimit = options.rateLimit;
    this.queueTimeoutMs = options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
    this.#bucket = options.rateLimit === undefined ? undefined : new TokenBucket({ rate: options.rateLimit });
  }

  /** Uploads served at once. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Changes the limit at run time (the manager's load limit): a higher one admits queued
   * uploads at once; under a lower one, running uploads finish and no new one starts
   * until fewer than the new limit run.
   */
  setLimit(concurrency: number): void {
    checkLimit(concurrency);
    this.#limit = concurrency;
    while (this.#active < this.#limit && this.#queue.length > 0) {
      this.#active++;
      this.#queue.shift()!.admit();
    }
  }

  /** Uploads running now. */
  get active(): number {
    return this.#active;
  }

  /** Uploads waiting for a slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** The most uploads that ever ran at once: for tests and metrics. */
  get peak(): number {
    return this.#peak;
  }

  get bytesSent(): number {
    return this.#bytes;
  }

  /**
   * Admits one upload, waiting up to `queueTimeoutMs` for a slot. Refused with
   * RESOURCE_EXHAUSTED (`upload-busy`) when none frees up in time, CANCELLED on abort.
   */
  async acquire(signal?: AbortSignal): Promise<UploadSlot> {
    if (signal?.aborted) throw cancelled(signal);
    // A waiter is handed the slot of the upload that ends, already counted as active.
    if (this.#active >= this.limit || this.#queue.length > 0) await this.#wait(signal);
    else this.#active++;
    this.#peak = Math.max(this.#peak, this.#active);
    return this.#slot();
  }

  /** The byte server counts its open connections here, for the host's network stats. */
  connectionOpened(): void {
    this.#connections++;
  }

  connectionClosed(): void {
    this.#connections--;
  }

  load(): UploadLoad {
    this.#roll();
    return {
      concurrentUploadLimit: this.limit,
      concurrentUploadCount: this.#active,
      uploadCount: this.#uploads,
      uploadFailedCount: this.#failed,
      connectionCount: this.#connections,
      txBandwidth: this.#bytesLastSecond * 8,
      maxTxBandwidth: this.rateLimit === undefined ? 0 : this.rateLimit * 8,
    };
  }

  #wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        remove();
        reject(cancelled(signal as AbortSignal));
      };
      const waiter: Waiter = {
        admit: () => {
          signal?.removeEventListener("abort", onAbort);
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          remove();
          reject(
            new DfError(
              "RESOURCE_EXHAUSTED",
              `this host is serving its limit of ${this.limit} uploads at once and none finished within ${this.queueTimeoutMs} ms; fetch the piece from another parent or retry later`,
              { reason: "upload-busy", details: { limit: this.limit } },
            ),
          );
        }, this.queueTimeoutMs),
      };
      const remove = (): void => {
        signal?.removeEventListener("abort", onAbort);
        clearTimeout(waiter.timer);
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #slot(): UploadSlot {
    let released = false;
    return {
      throttle: async (bytes, signal) => {
        if (this.#bucket) await this.#bucket.take(bytes, signal);
      },
      sent: (bytes) => {
        this.#roll();
        this.#bytes += bytes;
        this.#bytesThisSecond += bytes;
      },
      release: (ok) => {
        if (released) return;
        released = true;
        if (ok) this.#uploads++;
        else this.#failed++;
        // The slot passes straight to the next waiter, so a queued upload is not
        // overtaken by one that arrives later.
        const next = this.#active <= this.#limit ? this.#queue.shift() : undefined;
        if (next) next.admit();
        else this.#active--;
      },
    };
  }

  #roll(): void {
    const second = Math.floor(performance.now() / 1000);
    if (second === this.#second) return;
    this.#bytesLastSecond = second === this.#second + 1 ? this.#bytesThisSecond : 0;
    this.#bytesThisSecond = 0;
    this.#second = second;
  }
}

function checkLimit(concurrency: number): void {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new DfError("INVALID_ARGUMENT", `the upload concurrency limit must be a positive integer, got ${String(concurrency)}`);
  }
}

function cancelled(signal: AbortSignal): DfError {
  if (isDfError(signal.reason)) return signal.reason;
  return new DfError("CANCELLED", "the upload was cancelled while waiting for a free slot", { cause: signal.reason });
}
