import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { TEMP_SUFFIX } from "./layout.js";

let sequence = 0;

export interface AtomicWriteOptions {
  /**
   * fsync the new file before the rename and the directory after it, so the new
   * contents survive a power loss. Without it a crash of the process still leaves the
   * old or the new file, but a crash of the machine may leave an empty one.
   */
  durable?: boolean;
  /**
   * The rename waits for this (and does not happen if it rejects): the new contents are
   * written, and synced, while something they depend on is made durable.
   */
  after?: Promise<unknown>;
}

/**
 * Replaces `file` with `data` so that readers (and a restart) see either the old or the
 * new contents, never a mixture: write a temporary sibling, then rename over.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = `${file}.${process.pid}.${++sequence}${TEMP_SUFFIX}`;
  try {
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(data);
      if (options.durable) await handle.datasync();
    } finally {
      await handle.close();
    }
    await options.after;
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (options.durable) await syncDirectory(path.dirname(file));
}

/** Makes a rename or unlink in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
