import type { Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import {
  DfError,
  throwIfAborted,
  type AbortOptions,
  type SourceClient,
  type SourceGetRequest,
  type SourceRequest,
  type SourceResponse,
  type SourceStat,
} from "@df/interface";
import { localSourceOptionsSchema, type LocalSourceOptions, type LocalSourceOptionsInput } from "./options.js";
import { checkRoots, mapFsError, notAFile, pathOfUrl } from "./path.js";

/** Options of one get of the local source. */
export interface LocalGetOptions extends AbortOptions {
  /**
   * Read into `recycle` buffers taken in turn instead of a new buffer per chunk: a chunk
   * then stays valid only until `recycle` more chunks have been taken from the body, and
   * every chunk but the last is exactly `chunkSize` bytes. For a consumer that is done
   * with a chunk that soon (dfcache import writes at most `recycle - 1` pieces at once);
   * it saves allocating, and first touching, fresh memory for every chunk.
   */
  recycle?: number;
}

/**
 * Serves `file:` URLs from this node's file system. The stat's validators come from the
 * inode, size and mtime, and a get whose file no longer has the length the caller
 * learnt is ABORTED (`source-changed`), so a file rewritten mid-import is never mixed.
 */
export class LocalSourceClient implements SourceClient {
  readonly name = "local";
  readonly schemes = ["file"] as const;
  readonly #options: LocalSourceOptions;

  constructor(options: LocalSourceOptions) {
    this.#options = options;
  }

  async stat(request: SourceRequest, options: AbortOptions = {}): Promise<SourceStat> {
    throwIfAborted(options.signal);
    const file = pathOfUrl(request.url);
    const handle = await this.#open(file);
    try {
      const stats = await this.#regularFile(handle, file);
      return {
        contentLength: stats.size,
        supportsRange: true,
        etag: `"${stats.ino.toString(16)}-${stats.size.toString(16)}-${Math.trunc(stats.mtimeMs).toString(16)}"`,
        lastModified: stats.mtime.toUTCString(),
        header: { "content-length": String(stats.size) },
      };
    } finally {
      await handle.close();
    }
  }

  async get(request: SourceGetRequest, options: LocalGetOptions = {}): Promise<SourceResponse> {
    throwIfAborted(options.signal);
    const file = pathOfUrl(request.url);
    const handle = await this.#open(file);
    let size: number;
    try {
      size = (await this.#regularFile(handle, file)).size;
      throwIfAborted(options.signal);
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (request.expectedLength !== undefined && request.expectedLength !== size) {
      await handle.close();
      throw new DfError("ABORTED", `${file} is now ${size} bytes, not the ${request.expectedLength} it had; it changed under the reader`, {
        reason: "source-changed",
        details: { path: file, expected: request.expectedLength, actual: size },
      });
    }
    const start = request.range?.start ?? 0;
    const length = request.range ? request.range.length : size;
    if (start < 0 || length < 0 || start + length > size) {
      await handle.close();
      throw new DfError("OUT_OF_RANGE", `bytes ${start}+${length} lie past the end of ${file} (${size} bytes)`, {
        details: { path: file, start, length, size },
      });
    }
    const recycle = options.recycle !== undefined && options.recycle > 0 ? Math.floor(options.recycle) : 0;
    const body = new FileBody(handle, file, start, length, this.#options.chunkSize, options.signal, recycle);
    return {
      status: request.range ? 206 : 200,
      header: { "content-length": String(length) },
      contentLength: length,
      body,
      cancel: (reason) => body.cancel(reason),
    };
  }

  async #open(file: string): Promise<FileHandle> {
    await checkRoots(file, this.#options.roots);
    try {
      return await open(file, "r");
    } catch (error) {
      throw mapFsError(error, file);
    }
  }

  async #regularFile(handle: FileHandle, file: string): Promise<Stats> {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw notAFile(file, "a directory");
    if (!stats.isFile()) throw notAFile(file, "a special file");
    return stats;
  }
}

/**
 * The bytes of one get: read chunk by chunk on demand (memory stays at one chunk however
 * slowly the consumer reads), closed at the end, on cancel and on abort.
 */
class FileBody implements AsyncIterable<Uint8Array> {
  #closed = false;
  #cancelled: unknown;

  constructor(
    private readonly handle: FileHandle,
    private readonly file: string,
    private readonly start: number,
    private readonly length: number,
    private readonly chunkSize: number,
    private readonly signal: AbortSignal | undefined,
    /** How many buffers to take in turn; 0: a new one per chunk. */
    private readonly recycle: number,
  ) {}

  async cancel(reason?: unknown): Promise<void> {
    this.#cancelled = reason ?? new Error("cancelled");
    await this.#close();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    let position = this.start;
    const end = this.start + this.length;
    const ring: Buffer[] = [];
    let turn = 0;
    try {
      while (position < end) {
        throwIfAborted(this.signal);
        if (this.#cancelled !== undefined) {
          throw new DfError("CANCELLED", `reading ${this.file} was cancelled`, { cause: this.#cancelled });
        }
        const size = Math.min(this.chunkSize, end - position);
        if (this.recycle === 0) {
          const buffer = Buffer.allocUnsafe(size);
          const bytesRead = await this.#read(buffer, position, end);
          position += bytesRead;
          yield bytesRead === buffer.byteLength ? buffer : buffer.subarray(0, bytesRead);
          continue;
        }
        const slot = turn++ % this.recycle;
        const buffer = (ring[slot] ??= Buffer.allocUnsafe(Math.min(this.chunkSize, this.length)));
        const chunk = buffer.subarray(0, size);
        // Fill the whole chunk, so consumers that regroup chunks never hold a part of one.
        for (let filled = 0; filled < size; ) filled += await this.#read(chunk.subarray(filled), position + filled, end);
        position += size;
        yield chunk;
      }
    } catch (error) {
      if (this.signal?.aborted) throw new DfError("CANCELLED", `reading ${this.file} was aborted`, { cause: this.signal.reason });
      if (this.#cancelled !== undefined && !(error instanceof DfError)) {
        throw new DfError("CANCELLED", `reading ${this.file} was cancelled`, { cause: error });
      }
      throw error;
    } finally {
      await this.#close();
    }
  }

  /** Reads at `position` into `buffer`; DATA_LOSS when the file ends before `end`. */
  async #read(buffer: Buffer, position: number, end: number): Promise<number> {
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.byteLength, position);
    if (bytesRead === 0) {
      throw new DfError("DATA_LOSS", `${this.file} ended at ${position} bytes, before the ${end} expected; it was truncated while being read`, {
        reason: "source-changed",
        details: { path: this.file, position, end },
      });
    }
    return bytesRead;
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.handle.close().catch(() => {});
  }
}

/** A client with default options (every file this process can read). */
export function createLocalSource(options: LocalSourceOptionsInput = {}): LocalSourceClient {
  return new LocalSourceClient(localSourceOptionsSchema.parse(options));
}
