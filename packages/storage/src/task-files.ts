import { constants as openFlags } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { errorMessage, type Logger } from "@df/interface";
import { directWritable, O_DIRECT, type DirectIOSwitch } from "./direct-io.js";
import type { TaskPaths } from "./layout.js";
import { writeFully } from "./piece-io.js";

/**
 * The open files of one task, opened on first use and closed soon after the task goes
 * idle. One content handle serves every concurrent reader and writer through
 * positional I/O, so a busy task costs one descriptor however many pieces are in flight
 * (two with direct I/O: aligned writes bypass the page cache through their own).
 */
export class TaskFiles {
  readonly paths: TaskPaths;
  readonly #direct: DirectIOSwitch;
  readonly #logger: Logger;
  #content: Promise<FileHandle> | undefined;
  #directContent: Promise<FileHandle | undefined> | undefined;
  #log: Promise<FileHandle> | undefined;

  constructor(paths: TaskPaths, direct: DirectIOSwitch, logger: Logger) {
    this.paths = paths;
    this.#direct = direct;
    this.#logger = logger;
  }

  content(): Promise<FileHandle> {
    if (this.#content) return this.#content;
    const opening = open(this.paths.content, "r+");
    this.#content = opening;
    // A failed open must not stick: the next caller tries again.
    opening.catch(() => {
      if (this.#content === opening) this.#content = undefined;
    });
    return opening;
  }

  /**
   * Writes all of `data` at `position`. With direct I/O on and the bytes aligned (see
   * `directWritable`), they go straight to the disk: no page cache to fill, which on
   * hosts that charge for fresh memory (this project's VMs: ~380 MB/s into new page
   * cache, ~1.8 GB/s direct) is most of a download's cost, and no cache pressure on
   * the applications beside the daemon. Anything else goes through the page cache.
   */
  async write(data: Uint8Array, position: number): Promise<void> {
    if (this.#direct.enabled && directWritable(data, position)) {
      const handle = await this.#openDirect();
      if (handle) {
        try {
          await writeFully(handle, data, position);
          this.#direct.written.direct += data.byteLength;
          return;
        } catch (error) {
          // The bytes are aligned, so EINVAL is the file system refusing direct I/O.
          if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
          this.#refused(error);
        }
      }
    }
    await writeFully(await this.content(), data, position);
    this.#direct.written.cached += data.byteLength;
  }

  /** Opened for appending: every write lands at the end whatever else moved the offset. */
  pieceLog(): Promise<FileHandle> {
    if (this.#log) return this.#log;
    const opening = open(this.paths.pieceLog, "a");
    this.#log = opening;
    opening.catch(() => {
      if (this.#log === opening) this.#log = undefined;
    });
    return opening;
  }

  async close(): Promise<void> {
    const handles = [this.#content, this.#directContent, this.#log];
    this.#content = undefined;
    this.#directContent = undefined;
    this.#log = undefined;
    await Promise.allSettled(handles.map(async (handle) => (await handle)?.close()));
  }

  /**
   * The content opened for direct I/O; undefined when it cannot be: for good once the file
   * system refused it (EINVAL), for this write only on any other error (the write then
   * takes the page cache handle, which reports a real problem with the file itself).
   */
  #openDirect(): Promise<FileHandle | undefined> {
    if (this.#directContent) return this.#directContent;
    const opening = open(this.paths.content, (O_DIRECT as number) | openFlags.O_WRONLY).catch((error: unknown) => {
      if (this.#directContent === opening) this.#directContent = undefined;
      if ((error as NodeJS.ErrnoException).code === "EINVAL") this.#refused(error);
      else this.#logger.debug("could not open a task's content for direct I/O; this write goes through the page cache", { file: this.paths.content, error: errorMessage(error) });
      return undefined;
    });
    this.#directContent = opening;
    return opening;
  }

  #refused(error: unknown): void {
    if (this.#direct.disable(`the file system (or its device) refused direct I/O: ${errorMessage(error)}`)) {
      this.#logger.warn("direct I/O is off: the storage's file system (or its device) refused it; pieces are written through the page cache", {
        file: this.paths.content,
        error: errorMessage(error),
      });
    }
  }
}
