import { open, type FileHandle } from "node:fs/promises";
import type { TaskPaths } from "./layout.js";

/**
 * The open files of one task, opened on first use and closed soon after the task goes
 * idle. One content handle serves every concurrent reader and writer through
 * positional I/O, so a busy task costs one descriptor however many pieces are in flight.
 */
export class TaskFiles {
  readonly paths: TaskPaths;
  #content: Promise<FileHandle> | undefined;
  #log: Promise<FileHandle> | undefined;

  constructor(paths: TaskPaths) {
    this.paths = paths;
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
    const handles = [this.#content, this.#log];
    this.#content = undefined;
    this.#log = undefined;
    await Promise.allSettled(handles.map(async (handle) => (await handle)?.close()));
  }
}
