import { statSync, type Stats } from "node:fs";
import { stat, unlink } from "node:fs/promises";
import type { Readable } from "node:stream";
import { DfError, throwIfAborted, toDfError, type AbortOptions, type Logger } from "@df/interface";
import {
  createDigester,
  formatCrc32,
  parseDigest,
  PieceBitset,
  pieceRange,
  piecesForRange,
  type ByteRange,
  type Digester,
  type ParsedDigest,
  type PieceRange,
} from "@df/piece";
import { abortError } from "./abort.js";
import { ArrivingPiece } from "./arriving.js";
import { writeFileAtomic } from "./atomic-file.js";
import { crc32 } from "./crc.js";
import type { DirectIOSwitch } from "./direct-io.js";
import { chunkStream } from "./read-stream.js";
import { METADATA_FORMAT, encodeTaskRecord, type ContentStat, type StoredValidators, type TaskDescriptor, type TaskRecord } from "./metadata.js";
import { PieceEvents } from "./piece-events.js";
import { readFully, writeFromStream } from "./piece-io.js";
import { PieceLogAppender } from "./piece-log.js";
import type { Piece, PieceTable } from "./piece-table.js";
import { TaskFiles } from "./task-files.js";
import type { TaskPaths } from "./layout.js";

/** The bytes of one piece: all at once, or as a stream of chunks (e.g. a socket). */
export type PieceSource = Uint8Array | AsyncIterable<Uint8Array>;

export interface WritePieceOptions extends AbortOptions {
  /**
   * The digest the sender gave for this piece (`crc32:<decimal>`, or `sha256:`/`sha512:`).
   * A piece whose bytes do not match is rejected with DATA_LOSS
   * (`piece-digest-mismatch`) and not recorded.
   */
  digest?: string;
  /**
   * Let the bytes be served while they land (see ArrivingPiece): only for a stream
   * whose `digest` (CRC-32) is known up front, so that readers can check what they got.
   */
  cutThrough?: boolean;
}

export interface ReadOptions extends AbortOptions {
  /**
   * Wait for pieces that are not finished yet instead of failing with NOT_FOUND
   * (`piece-not-finished`): for serving a task that is still downloading.
   */
  wait?: boolean;
  /** Bytes per chunk read from disk (default 1 MiB); chunks never span two pieces. */
  chunkSize?: number;
}

/** Holds a task in use: GC and delete leave it alone until it is released. */
export interface Lease {
  readonly taskId: string;
  /** Idempotent. */
  release(): void;
}

/** A snapshot of a task's state. Times are ms since the epoch. */
export interface TaskInfo extends TaskDescriptor {
  pieceCount: number;
  finishedPieceCount: number;
  finishedBytes: number;
  complete: boolean;
  createdAt: number;
  /** When a piece was last written (or the task created). */
  updatedAt: number;
  /** When the task was last used; GC evicts the least recently used first. */
  accessedAt: number;
  finishedAt?: number;
  /** How many leases hold the task now. */
  inUse: number;
}

/** What a task needs from the store that owns it. */
export interface TaskContext {
  readonly logger: Logger;
  /** The store's clock, ms since the epoch. */
  now(): number;
  /** The last lease was released. */
  onIdle(task: Task): void;
  /** Whether aligned piece writes bypass the page cache (shared by every task of the store). */
  readonly directIO: DirectIOSwitch;
}

/** @internal How a task is made: fresh by the store, or from disk by the loader. */
export interface TaskInit {
  descriptor: TaskDescriptor;
  createdAt: number;
  updatedAt: number;
  accessedAt: number;
  finishedAt?: number;
  contentStat?: ContentStat;
  syncedPieceRecords: number;
  logRecords: number;
  table: PieceTable;
  paths: TaskPaths;
  context: TaskContext;
  /** Just created by the store, for a caller that has not taken its lease yet. */
  fresh?: boolean;
}

const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/**
 * Once this many bytes are written since the content was last synced, an fdatasync is
 * started in the background: the disk then takes a large task's bytes while the rest
 * still arrives, and the sync that completes the task only has the tail left (for
 * 2 GiB on this project's VM: ~1 s at completion without it, a few ms with it). At
 * 128 MiB a 128 MiB task got no background sync at all and a 1 GiB one still waited
 * ~70 ms at the end; 16 MiB took dfcache export of 128 MiB from ~225 to ~160 ms and
 * import of 1 GiB from ~990 to ~550 ms (8 MiB was no better, within the noise).
 */
const BACKGROUND_SYNC_BYTES = 16 * 1024 * 1024;
/** An idle task's files are closed this long after its last user left. */
const FILE_LINGER_MS = 2000;
/** Access times are persisted at most this often per task: they only order GC. */
const ACCESS_PERSIST_INTERVAL_MS = 60_000;

type TaskState = "active" | "deleting" | "deleted" | "closed";

/**
 * One task in the store: a preallocated content file written piece by piece at each
 * piece's offset, the record of which pieces are finished, and readers that can stream
 * what is there and wait for what is not. Get tasks from {@link Storage}; never
 * construct one.
 */
export class Task {
  readonly id: string;
  readonly contentLength: number;
  readonly pieceLength: number;
  readonly pieceCount: number;

  readonly #descriptor: TaskDescriptor;
  readonly #table: PieceTable;
  readonly #files: TaskFiles;
  readonly #log: PieceLogAppender;
  readonly #events = new PieceEvents();
  readonly #context: TaskContext;
  readonly #writing = new Map<number, Promise<void>>();
  /** Pieces whose bytes may be read while they are written (see ArrivingPiece). */
  readonly #arriving = new Map<number, ArrivingPiece>();
  readonly #arrivingListeners = new Set<(piece: ArrivingPiece) => void>();
  /** Bytes received so far of each piece being written from a stream (for progress). */
  readonly #receiving = new Map<number, number>();
  readonly #createdAt: number;
  #updatedAt: number;
  #accessedAt: number;
  #persistedAccessedAt: number;
  #finishedAt: number | undefined;
  /** The content file's stat when the task completed (or was last verified whole). */
  #contentStat: ContentStat | undefined;
  #syncedPieceRecords: number;
  #users = 0;
  #fresh: boolean;
  #state: TaskState = "active";
  /** Pieces appended since the content and log were last fsynced. */
  #dirty = false;
  #completing: Promise<void> | undefined;
  /** Content bytes written since the last background sync started. */
  #unsyncedBytes = 0;
  #backgroundSync: Promise<void> | undefined;
  #metadataWrites: Promise<void> = Promise.resolve();
  #closeTimer: NodeJS.Timeout | undefined;

  /** @internal */
  constructor(init: TaskInit) {
    this.#descriptor = init.descriptor;
    this.id = init.descriptor.taskId;
    this.contentLength = init.descriptor.contentLength;
    this.pieceLength = init.descriptor.pieceLength;
    this.pieceCount = init.table.pieceCount;
    this.#table = init.table;
    this.#files = new TaskFiles(init.paths, init.context.directIO, init.context.logger);
    this.#log = new PieceLogAppender(() => this.#files.pieceLog(), init.logRecords);
    this.#context = init.context;
    this.#createdAt = init.createdAt;
    this.#updatedAt = init.updatedAt;
    this.#accessedAt = init.accessedAt;
    this.#persistedAccessedAt = init.accessedAt;
    this.#finishedAt = init.finishedAt;
    this.#contentStat = init.contentStat;
    this.#fresh = init.fresh ?? false;
    this.#syncedPieceRecords = init.syncedPieceRecords;
  }

  get complete(): boolean {
    return this.#finishedAt !== undefined;
  }

  /** How many leases (explicit, or held by running reads and writes) hold the task. */
  get inUse(): number {
    return this.#users;
  }

  /**
   * @internal Created and never used yet: its creator is about to lease it. Free-space
   * checks count its bytes as taken and eviction leaves it alone meanwhile.
   */
  get fresh(): boolean {
    return this.#fresh;
  }

  /** A copy of the finished-piece bitset. */
  get finishedPieces(): PieceBitset {
    return this.#table.bitset.clone();
  }

  get finishedBytes(): number {
    return this.#table.finishedBytes;
  }

  get accessedAt(): number {
    return this.#accessedAt;
  }

  /** Shared by every version of one URL: the task's own ID when it has no version. */
  get baseTaskId(): string {
    return this.#descriptor.baseTaskId ?? this.id;
  }

  /** The origin's version the content is (opaque; see TaskDescriptor.version). */
  get version(): string | undefined {
    return this.#descriptor.version;
  }

  /** The origin's validators of the content, when they were known at creation. */
  get validators(): Readonly<StoredValidators> | undefined {
    return this.#descriptor.validators;
  }

  /** When the last piece was stored; undefined until complete. */
  get finishedAt(): number | undefined {
    return this.#finishedAt;
  }

  get info(): TaskInfo {
    const { filteredQueryParams } = this.#descriptor;
    return {
      ...this.#descriptor,
      responseHeader: { ...this.#descriptor.responseHeader },
      ...(filteredQueryParams ? { filteredQueryParams: [...filteredQueryParams] } : {}),
      pieceCount: this.pieceCount,
      finishedPieceCount: this.#table.bitset.size,
      finishedBytes: this.#table.finishedBytes,
      complete: this.complete,
      createdAt: this.#createdAt,
      updatedAt: this.#updatedAt,
      accessedAt: this.#accessedAt,
      ...(this.#finishedAt === undefined ? {} : { finishedAt: this.#finishedAt }),
      inUse: this.#users,
    };
  }

  hasPiece(number: number): boolean {
    this.#range(number);
    return this.#table.has(number);
  }

  /** The finished piece `number`, or undefined while it is missing. */
  piece(number: number): Piece | undefined {
    this.#range(number);
    return this.#table.get(number);
  }

  /** Every finished piece, by number. */
  pieces(): Piece[] {
    return Array.from(this.#table.bitset.present(), (n) => this.#table.get(n) as Piece);
  }

  /**
   * Holds the task in use until `release()`: GC and deleteTask leave it alone, and its
   * files stay open across the many reads and writes of one download or upload.
   */
  acquire(): Lease {
    const release = this.#enter();
    return { taskId: this.id, release };
  }

  /**
   * Writes piece `number` at its offset and records it once its bytes are down and its
   * digest checks out. A piece that is already finished is not written again: its
   * record is returned and `data` is left unread. Two writers of the same piece take
   * turns, so the first good copy wins and the second returns it.
   */
  async writePiece(number: number, data: PieceSource, options: WritePieceOptions = {}): Promise<Piece> {
    const range = this.#range(number);
    const expected = options.digest === undefined ? undefined : parseDigest(options.digest);
    const release = this.#enter();
    try {
      for (;;) {
        const existing = this.#table.get(number);
        if (existing) return existing;
        const inFlight = this.#writing.get(number);
        if (!inFlight) break;
        await inFlight;
        this.#assertUsable();
      }
      throwIfAborted(options.signal);
      const arriving =
        options.cutThrough && expected?.algorithm === "crc32" && !(data instanceof Uint8Array)
          ? this.#startArriving(range, `${expected.algorithm}:${expected.encoded}`)
          : undefined;
      const attempt = this.#write(range, data, expected, options.signal, arriving);
      if (arriving) {
        attempt.then(
          () => this.#endArriving(arriving, "stored"),
          (error: unknown) => this.#endArriving(arriving, toDfError(error)),
        );
      }
      this.#writing.set(
        number,
        attempt.then(
          () => {},
          () => {},
        ),
      );
      try {
        return await attempt;
      } finally {
        this.#writing.delete(number);
        this.#receiving.delete(number);
      }
    } finally {
      release();
    }
  }

  async #write(
    range: PieceRange,
    data: PieceSource,
    expected: ParsedDigest | undefined,
    signal: AbortSignal | undefined,
    arriving: ArrivingPiece | undefined,
  ): Promise<Piece> {
    const other: Digester | undefined = expected && expected.algorithm !== "crc32" ? createDigester(expected.algorithm) : undefined;
    let crc = 0;
    // Opened (if it is not yet) while the bytes go down, for the record appended after.
    void this.#files.pieceLog();
    try {
      if (data instanceof Uint8Array) {
        if (data.byteLength !== range.length) {
          throw new DfError(
            "INVALID_ARGUMENT",
            `piece ${range.number} of task ${this.id} is ${range.length} bytes, got ${data.byteLength}`,
            { details: { taskId: this.id, number: range.number, expected: range.length, actual: data.byteLength } },
          );
        }
        // The thread pool writes while this thread computes the CRC of the same bytes.
        const writing = this.#files.write(data, range.offset);
        crc = crc32(data);
        other?.update(data);
        await writing;
      } else {
        const write = arriving
          ? async (chunk: Uint8Array, position: number): Promise<void> => {
              await this.#files.write(chunk, position);
              arriving.advance(chunk.byteLength);
            }
          : (chunk: Uint8Array, position: number): Promise<void> => this.#files.write(chunk, position);
        await writeFromStream(write, data, range, (chunk) => {
          this.#receiving.set(range.number, (this.#receiving.get(range.number) ?? 0) + chunk.byteLength);
          crc = crc32(chunk, crc);
          other?.update(chunk);
        }, signal);
      }
    } catch (error) {
      throw this.#writeError(error, range);
    }
    if (expected) {
      const actual = other ? other.digest() : formatCrc32(crc);
      const wanted = `${expected.algorithm}:${expected.encoded}`;
      if (actual !== wanted) {
        throw new DfError(
          "DATA_LOSS",
          `piece ${range.number} of task ${this.id} does not match its digest: expected ${wanted}, got ${actual}; it was not stored, fetch it from another parent`,
          { reason: "piece-digest-mismatch", details: { taskId: this.id, pieceNumber: range.number, expected: wanted, actual } },
        );
      }
    }
    const finishedAt = this.#context.now();
    try {
      await this.#log.append({ number: range.number, length: range.length, crc, finishedAt });
    } catch (error) {
      throw this.#writeError(error, range);
    }
    this.#table.set(range.number, crc, finishedAt);
    this.#updatedAt = Math.max(this.#updatedAt, finishedAt);
    this.#dirty = true;
    this.#unsyncedBytes += range.length;
    if (this.#unsyncedBytes >= BACKGROUND_SYNC_BYTES && !this.#backgroundSync && !this.#table.bitset.isComplete()) this.#startBackgroundSync();
    const piece = this.#table.get(range.number) as Piece;
    for (const failure of this.#events.publish(piece)) {
      this.#context.logger.warn("a piece listener threw", { taskId: this.id, piece: range.number, error: String(failure) });
    }
    return piece;
  }

  /**
   * Flushes the content written so far without anyone waiting for it: only to spread the
   * disk's work over the download. Correctness never rests on it (markComplete and
   * shutdown sync again), so a failure is only logged.
   */
  #startBackgroundSync(): void {
    this.#unsyncedBytes = 0;
    const release = this.#enter();
    this.#backgroundSync = this.#files
      .content()
      .then((handle) => handle.datasync())
      .catch((error: unknown) => this.#context.logger.debug("a background sync of a task's content failed", { taskId: this.id, error: String(error) }))
      .finally(() => {
        this.#backgroundSync = undefined;
        release();
      });
  }

  #writeError(error: unknown, range: PieceRange): DfError {
    const mapped = toDfError(error);
    if (mapped !== error && mapped.code === "RESOURCE_EXHAUSTED") {
      return new DfError(
        "RESOURCE_EXHAUSTED",
        `no space left to write piece ${range.number} of task ${this.id} (${range.length} bytes at offset ${range.offset}); the piece was not recorded, free disk space or let GC evict tasks`,
        { cause: error, reason: mapped.reason, details: { taskId: this.id, number: range.number } },
      );
    }
    return mapped;
  }

  #startArriving(range: PieceRange, digest: string): ArrivingPiece {
    const arriving = new ArrivingPiece({ number: range.number, offset: range.offset, length: range.length, digest });
    this.#arriving.set(range.number, arriving);
    for (const listener of [...this.#arrivingListeners]) {
      try {
        listener(arriving);
      } catch (error) {
        this.#context.logger.warn("an arriving-piece listener threw", { taskId: this.id, piece: range.number, error: String(error) });
      }
    }
    return arriving;
  }

  #endArriving(arriving: ArrivingPiece, outcome: "stored" | DfError): void {
    if (this.#arriving.get(arriving.number) === arriving) this.#arriving.delete(arriving.number);
    arriving.settle(outcome);
  }

  /**
   * Bytes received so far of the pieces `from` to `to` (exclusive) that are being written
   * from a stream and not stored yet: what a progress display shows between pieces.
   */
  receivingBytes(from = 0, to = this.pieceCount): number {
    let bytes = 0;
    for (const [number, received] of this.#receiving) if (number >= from && number < to) bytes += received;
    return bytes;
  }

  /**
   * For a writer that gathers a piece in memory before writePiece (an origin without
   * ranges, read in order): `bytes` of piece `number` have arrived; 0 clears it. A
   * write of the piece clears it too.
   */
  noteReceiving(number: number, bytes: number): void {
    if (bytes > 0 && !this.#table.get(number)) this.#receiving.set(number, bytes);
    else this.#receiving.delete(number);
  }

  /** Piece `number` while its bytes are being written with `cutThrough`; undefined otherwise. */
  arrivingPiece(number: number): ArrivingPiece | undefined {
    return this.#arriving.get(number);
  }

  /** The pieces being written with `cutThrough` now. */
  arrivingPieces(): ArrivingPiece[] {
    return [...this.#arriving.values()];
  }

  /** Calls `listener` for every piece that starts arriving from now on; returns the unsubscribe function. */
  onArriving(listener: (piece: ArrivingPiece) => void): () => void {
    this.#arrivingListeners.add(listener);
    return () => this.#arrivingListeners.delete(listener);
  }

  /**
   * Reads bytes of an arriving piece into `target` from content offset `position`,
   * waiting until they are on disk (bytes that reach the piece's end: until the piece
   * is checked and stored). Fails with the piece's write error if that write fails
   * first (the bytes read so far are then of no use to anyone).
   */
  async readArriving<T extends Uint8Array>(arriving: ArrivingPiece, target: T, position: number, options: AbortOptions = {}): Promise<T> {
    const end = position + target.byteLength;
    if (position < arriving.offset || end > arriving.offset + arriving.length) {
      throw new DfError("OUT_OF_RANGE", `bytes ${position}+${target.byteLength} are not all in piece ${arriving.number} of task ${this.id}`, {
        details: { taskId: this.id, number: arriving.number, position, length: target.byteLength },
      });
    }
    await arriving.until(end - arriving.offset, options.signal);
    const release = this.#enter();
    try {
      throwIfAborted(options.signal);
      await readFully(await this.#files.content(), target, position);
      return target;
    } finally {
      release();
    }
  }

  /** Resolves with piece `number` once it is finished (at once if it already is). */
  async waitForPiece(number: number, options: AbortOptions = {}): Promise<Piece> {
    this.#range(number);
    const existing = this.#table.get(number);
    if (existing) return existing;
    this.#assertUsable();
    return this.#events.wait(number, options.signal, `stopped waiting for piece ${number} of task ${this.id}`);
  }

  /**
   * Calls `listener` for every piece finished from now on; returns the unsubscribe
   * function. An upload service turns this into its piece-availability stream.
   */
  onPiece(listener: (piece: Piece) => void): () => void {
    return this.#events.subscribe({ piece: listener, end: () => {} });
  }

  /**
   * Every finished piece (those already there first, in order), then each new one as it
   * finishes; ends when all pieces have been seen. Fails with NOT_FOUND if the task is
   * deleted and CANCELLED when the store closes or the signal aborts.
   */
  async *watchPieces(options: AbortOptions = {}): AsyncGenerator<Piece, void, undefined> {
    const { signal } = options;
    const queue: Piece[] = [];
    let wake: (() => void) | undefined;
    let failure: unknown;
    const unsubscribe = this.#events.subscribe({
      piece: (piece) => {
        queue.push(piece);
        wake?.();
      },
      end: (error) => {
        failure ??= error;
        wake?.();
      },
    });
    const onAbort = (): void => {
      failure ??= signal?.reason;
      wake?.();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const seen = new PieceBitset(this.pieceCount);
    try {
      this.#assertUsable();
      for (const number of [...this.#table.bitset.present()]) {
        throwIfAborted(signal);
        seen.set(number);
        yield this.#table.get(number) as Piece;
      }
      while (!seen.isComplete()) {
        const piece = queue.shift();
        if (piece) {
          if (seen.set(piece.number)) yield piece;
          continue;
        }
        if (signal?.aborted) throw abortError(signal, `stopped watching the pieces of task ${this.id}`);
        if (failure !== undefined) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      unsubscribe();
    }
  }

  /** Reads one finished piece into memory (one piece, at most 64 MiB in practice). */
  async readPiece(number: number, options: Omit<ReadOptions, "chunkSize"> = {}): Promise<Buffer> {
    const range = this.#range(number);
    const release = this.#enter();
    try {
      await this.#ensurePiece(number, options);
      const buffer = Buffer.allocUnsafe(range.length);
      await readFully(await this.#files.content(), buffer, range.offset);
      return buffer;
    } finally {
      release();
    }
  }

  /**
   * Reads `target.byteLength` bytes of the content from `position` into `target`, a
   * buffer the caller owns and may reuse: no allocation per read, for servers that
   * stream many chunks. Every piece the span touches must be finished (or is waited for,
   * with `wait`), else NOT_FOUND (`piece-not-finished`); a span past the end of the
   * content is OUT_OF_RANGE. Resolves with `target`, filled.
   */
  async readInto<T extends Uint8Array>(target: T, position: number, options: Omit<ReadOptions, "chunkSize"> = {}): Promise<T> {
    const span = piecesForRange({ start: position, length: target.byteLength }, this.contentLength, this.pieceLength);
    if (span === undefined) return target;
    const release = this.#enter();
    try {
      for (let number = span.first; number <= span.last; number++) await this.#ensurePiece(number, options);
      throwIfAborted(options.signal);
      await readFully(await this.#files.content(), target, position);
      return target;
    } finally {
      release();
    }
  }

  /**
   * The bytes of `range` (default: the whole content) as chunks read straight from
   * disk, never more than one chunk in memory. Range errors are thrown here, at once;
   * missing pieces fail (or are waited for, with `wait`) as the read reaches them.
   */
  read(range?: ByteRange, options: ReadOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    const span = this.#byteRange(range);
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
      throw new DfError("INVALID_ARGUMENT", `chunkSize must be a positive integer, got ${String(chunkSize)}`);
    }
    return this.#read(span, chunkSize, options);
  }

  async *#read(range: ByteRange, chunkSize: number, options: ReadOptions): AsyncGenerator<Buffer, void, undefined> {
    const release = this.#enter();
    try {
      const end = range.start + range.length;
      let position = range.start;
      while (position < end) {
        const number = Math.floor(position / this.pieceLength);
        await this.#ensurePiece(number, options);
        const pieceEnd = Math.min((number + 1) * this.pieceLength, end);
        while (position < pieceEnd) {
          throwIfAborted(options.signal);
          const buffer = Buffer.allocUnsafe(Math.min(chunkSize, pieceEnd - position));
          await readFully(await this.#files.content(), buffer, position);
          position += buffer.length;
          yield buffer;
        }
      }
    } finally {
      release();
    }
  }

  /**
   * {@link read} as a Node Readable. Destroying the stream also stops a read that is
   * waiting for a piece, so an abandoned upload never pins the task.
   */
  createReadStream(range?: ByteRange, options: ReadOptions = {}): Readable {
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const chunks = this.read(range, { ...options, signal });
    return chunkStream(chunks, stop, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  }

  async #ensurePiece(number: number, options: ReadOptions): Promise<void> {
    if (this.#table.has(number)) return;
    if (!options.wait) {
      throw new DfError("NOT_FOUND", `piece ${number} of task ${this.id} is not finished yet; read it later or pass wait: true`, {
        reason: "piece-not-finished",
        details: { taskId: this.id, number },
      });
    }
    await this.waitForPiece(number, options);
  }

  /**
   * Whether the content file still looks as it did when the task completed: same inode,
   * size, mtime and ctime, by one stat. False for an incomplete task, a task whose
   * record predates the check, and a file that is gone. Anything that writes the file
   * (an edited hard link, a truncate, a direct write) changes ctime, which no one can
   * set back; so a match means the pieces' CRCs need not be read again.
   */
  contentUnchanged(): boolean {
    if (this.#finishedAt === undefined || !this.#contentStat) return false;
    let now: Stats;
    try {
      now = statSync(this.#files.paths.content);
    } catch {
      return false;
    }
    return sameStat(this.#contentStat, contentStatOf(now));
  }

  /**
   * Reads every piece of a complete task back and checks it against its recorded CRC;
   * returns the numbers of the pieces that no longer match (a piece past the end of a
   * truncated file reads short, and fails). When all match, the file's current stat is
   * recorded as the new reference, so the next hit is cheap again.
   */
  async verifyContent(options: AbortOptions = {}): Promise<number[]> {
    if (this.#finishedAt === undefined) {
      throw new DfError("FAILED_PRECONDITION", `task ${this.id} is not complete; only a complete task is verified`, {
        reason: "task-incomplete",
        details: { taskId: this.id },
      });
    }
    const release = this.#enter();
    try {
      const before = contentStatOf(await stat(this.#files.paths.content));
      // Another file put in its place: the open handle may still read the old one.
      if (this.#contentStat && before.ino !== this.#contentStat.ino) return Array.from({ length: this.pieceCount }, (_, n) => n);
      const bad: number[] = [];
      const handle = await this.#files.content();
      const buffer = Buffer.allocUnsafe(Math.min(this.pieceLength, DEFAULT_CHUNK_SIZE));
      for (let number = 0; number < this.pieceCount; number++) {
        throwIfAborted(options.signal);
        const range = this.#range(number);
        let crc = 0;
        let position = range.offset;
        let short = false;
        while (position < range.offset + range.length) {
          const want = Math.min(buffer.length, range.offset + range.length - position);
          const { bytesRead } = await handle.read(buffer, 0, want, position);
          if (bytesRead === 0) {
            short = true;
            break;
          }
          crc = crc32(buffer.subarray(0, bytesRead), crc);
          position += bytesRead;
        }
        if (short || crc !== this.#table.crcOf(number)) bad.push(number);
      }
      if (bad.length === 0 && before.size === this.contentLength) {
        this.#contentStat = before;
        await this.#persist();
      }
      return bad;
    } finally {
      release();
    }
  }

  /**
   * @internal Takes the file's current stat as the reference after the store itself
   * changed its ctime (a hard-link export); only if it matched just before.
   */
  async refreshContentStat(): Promise<void> {
    if (this.#finishedAt === undefined) return;
    this.#contentStat = contentStatOf(await stat(this.#files.paths.content));
    await this.#persist();
  }

  /**
   * Declares the task complete once every piece is finished: fdatasyncs the content,
   * then durably writes the record with every piece's digest (which replaces the piece
   * log). A complete task is trusted on restart without re-reading its bytes, which is
   * why the sync comes first. Idempotent.
   */
  markComplete(): Promise<void> {
    if (this.#finishedAt !== undefined) return Promise.resolve();
    this.#completing ??= this.#complete().finally(() => (this.#completing = undefined));
    return this.#completing;
  }

  async #complete(): Promise<void> {
    const release = this.#enter();
    try {
      const bitset = this.#table.bitset;
      if (!bitset.isComplete()) {
        const missing = this.pieceCount - bitset.size;
        throw new DfError(
          "FAILED_PRECONDITION",
          `task ${this.id} cannot be complete: ${missing} of ${this.pieceCount} piece(s) are missing, the first is piece ${String(bitset.firstMissing())}`,
          { reason: "pieces-missing", details: { taskId: this.id, missing } },
        );
      }
      // The complete record is written and synced while the content syncs, and takes
      // the old one's place only once the content is durable: one sync's wait, not two.
      const handle = await this.#files.content();
      // Every byte is written (the bitset is complete), so mtime and ctime are final;
      // datasync changes neither.
      this.#contentStat = contentStatOf(await handle.stat());
      const content = handle.datasync();
      content.catch(() => {});
      const finishedAt = this.#context.now();
      try {
        await this.#persist({ durable: true, finishedAt, after: content });
        await content;
      } catch (error) {
        throw toDfError(error);
      }
      this.#finishedAt = finishedAt;
      this.#updatedAt = Math.max(this.#updatedAt, finishedAt);
      this.#dirty = false;
      // The record now holds every piece; the log is redundant (the loader also
      // ignores a leftover one next to a complete record).
      await unlink(this.#files.paths.pieceLog).catch(() => {});
    } finally {
      release();
    }
  }

  /** @internal The record as it would be persisted now (as complete at `finishedAt`, if given). */
  toRecord(finishedAt = this.#finishedAt): TaskRecord {
    const record: TaskRecord = {
      format: METADATA_FORMAT,
      ...this.#descriptor,
      createdAt: this.#createdAt,
      updatedAt: this.#updatedAt,
      accessedAt: this.#accessedAt,
      syncedPieceRecords: this.#syncedPieceRecords,
    };
    if (finishedAt !== undefined) {
      record.finishedAt = finishedAt;
      record.pieces = this.#table.toRecordPieces();
      if (this.#contentStat) record.contentStat = { ...this.#contentStat };
    }
    return record;
  }

  /**
   * Writes the record atomically. Writes are queued so that each one snapshots the
   * state when it runs and the last one written is the newest.
   */
  #persist(options: { durable?: boolean; finishedAt?: number; after?: Promise<unknown> } = {}): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.#state === "deleted" || this.#state === "deleting") return;
      const record = this.toRecord(options.finishedAt ?? this.#finishedAt);
      await writeFileAtomic(this.#files.paths.metadata, encodeTaskRecord(record), options);
      this.#persistedAccessedAt = record.accessedAt;
    };
    const next = this.#metadataWrites.then(run, run);
    this.#metadataWrites = next.catch(() => {});
    return next;
  }

  #enter(): () => void {
    this.#assertUsable();
    this.#users++;
    this.#fresh = false;
    clearTimeout(this.#closeTimer);
    this.#accessedAt = Math.max(this.#accessedAt, this.#context.now());
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#users === 0) this.#idle();
    };
  }

  #idle(): void {
    // Kept open a moment: a task served piece by piece goes idle between requests,
    // and opening it again each time cost each one a system call.
    clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(() => {
      if (this.#users === 0) void this.#files.close();
    }, FILE_LINGER_MS);
    this.#closeTimer.unref();
    if (this.#state === "active" && this.#accessedAt - this.#persistedAccessedAt >= ACCESS_PERSIST_INTERVAL_MS) {
      this.#persist().catch((error: unknown) =>
        this.#context.logger.warn("could not persist the access time of a task", { taskId: this.id, error: String(error) }),
      );
    }
    this.#context.onIdle(this);
  }

  #assertUsable(): void {
    if (this.#state === "closed") {
      throw new DfError("FAILED_PRECONDITION", `the storage holding task ${this.id} is closed`, { reason: "storage-closed", details: { taskId: this.id } });
    }
    if (this.#state !== "active") {
      throw new DfError("NOT_FOUND", `task ${this.id} was deleted`, { reason: "task-deleted", details: { taskId: this.id } });
    }
  }

  #range(number: number): PieceRange {
    return pieceRange(number, this.contentLength, this.pieceLength);
  }

  #byteRange(range: ByteRange | undefined): ByteRange {
    if (range === undefined) return { start: 0, length: this.contentLength };
    piecesForRange(range, this.contentLength, this.pieceLength);
    return { start: range.start, length: range.length };
  }

  /**
   * @internal Hides the task from new users; `deleted` once its files are going. Pending
   * waiters learn at once that their piece will never come.
   */
  markDeleted(final: boolean): void {
    this.#state = final ? "deleted" : "deleting";
    this.#events.end(new DfError("NOT_FOUND", `task ${this.id} was deleted`, { reason: "task-deleted", details: { taskId: this.id } }));
  }

  /** @internal Waits for queued record writes, then closes the files. */
  async closeFiles(): Promise<void> {
    clearTimeout(this.#closeTimer);
    await this.#metadataWrites;
    await this.#files.close();
  }

  /** @internal The paths of the task's files. */
  get paths(): TaskPaths {
    return this.#files.paths;
  }

  /**
   * @internal At store close: wakes waiters, lets running writes finish, and for an
   * incomplete task written to in this run fsyncs content and log and records how many
   * log records that covers, so the next start re-verifies none of them.
   */
  async shutdown(): Promise<void> {
    if (this.#state !== "active") return;
    this.#state = "closed";
    this.#events.end(new DfError("CANCELLED", `the storage holding task ${this.id} is closing`, { reason: "storage-closed" }));
    await Promise.all([...this.#writing.values()]);
    await this.#completing?.catch(() => {});
    await this.#backgroundSync;
    const logger = this.#context.logger;
    let changed = this.#accessedAt !== this.#persistedAccessedAt;
    if (this.#dirty && this.#finishedAt === undefined) {
      try {
        await (await this.#files.content()).datasync();
        await (await this.#files.pieceLog()).datasync();
        this.#syncedPieceRecords = this.#log.recordCount;
        this.#dirty = false;
        changed = true;
      } catch (error) {
        logger.warn("could not sync an incomplete task at close; its pieces will be re-verified at the next start", {
          taskId: this.id,
          error: String(error),
        });
      }
    }
    if (changed) {
      await this.#persist().catch((error: unknown) =>
        logger.warn("could not persist a task at close", { taskId: this.id, error: String(error) }),
      );
    }
    await this.closeFiles();
  }
}

function contentStatOf(stats: Stats): ContentStat {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

function sameStat(a: ContentStat, b: ContentStat): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}
