import { randomUUID } from "node:crypto";
import { link, lstat, mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { DfError, toDfError } from "@df/interface";
import { DigestVerifier, type ByteRange } from "@df/piece";
import type { Storage, Task as StoredTask } from "@df/storage";
import { checkTaskDigest } from "../task/digest-check.js";

export interface OutputOptions {
  overwrite: boolean;
  /**
   * Hard-link the output to the cached task (fail if that is impossible) instead of
   * giving it bytes of its own: only when the user asks (`dfget --hard-link`), since
   * writing into such an output changes the cached copy.
   */
  forceHardLink: boolean;
  /** Write only these bytes of the task. */
  range?: ByteRange;
}

/**
 * Checks an output path before anything is downloaded, so a mistake costs nothing:
 * it must be absolute, must not be a directory or anything else but a regular file (or a
 * symbolic link, replaced itself), and must not exist unless `overwrite`.
 */
export async function checkOutput(output: string, overwrite: boolean): Promise<string> {
  if (!path.isAbsolute(output)) {
    throw new DfError("INVALID_ARGUMENT", `output path "${output}" is not absolute; the daemon does not know the client's working directory`, {
      reason: "relative-output",
      details: { output },
    });
  }
  const existing = await lstat(output).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw toDfError(error);
  });
  if (existing?.isDirectory()) {
    throw new DfError("INVALID_ARGUMENT", `output path ${output} is a directory; give a file path`, { reason: "output-is-directory", details: { output } });
  }
  // A device, FIFO or socket would be replaced by a regular file (as root: /dev/null);
  // a symbolic link is replaced itself, never followed.
  if (existing && !existing.isFile() && !existing.isSymbolicLink()) {
    throw new DfError("INVALID_ARGUMENT", `output path ${output} is not a regular file (a device, FIFO or socket); give a file path, or stream to standard output with dfget -O -`, {
      reason: "output-not-regular",
      details: { output },
    });
  }
  if (existing && !overwrite) {
    throw new DfError("ALREADY_EXISTS", `output ${output} already exists; remove it or ask to overwrite it`, {
      reason: "output-exists",
      details: { output },
    });
  }
  return path.normalize(output);
}

/**
 * Puts the downloaded bytes at `output`: the whole task by reflink or copy (a hard link
 * only if asked), or the bytes of a range written to a temporary file beside it and
 * renamed into place, so a reader never sees a half-written output.
 */
export async function writeOutput(storage: Storage, task: StoredTask, output: string, options: OutputOptions): Promise<void> {
  if (!options.range) {
    await storage.exportTask(task.id, output, { overwrite: options.overwrite, mode: options.forceHardLink ? "hardlink" : "copy" });
    return;
  }
  await mkdir(path.dirname(output), { recursive: true });
  const temporary = path.join(path.dirname(output), `.${path.basename(output)}.df-${randomUUID()}`);
  try {
    const handle = await open(temporary, "wx");
    try {
      let position = 0;
      for await (const chunk of task.read(options.range)) {
        await handle.write(chunk, 0, chunk.byteLength, position);
        position += chunk.byteLength;
      }
    } finally {
      await handle.close();
    }
    if (options.overwrite) await rename(temporary, output);
    else {
      // link() refuses an existing target, so a file created meanwhile is not clobbered.
      await link(temporary, output).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "EEXIST") throw new DfError("ALREADY_EXISTS", `output ${output} already exists`, { reason: "output-exists" });
        throw toDfError(error);
      });
    }
  } finally {
    await rm(temporary, { force: true }).catch(() => {});
  }
}

/** Checks the whole task against the digest the client gave (`crc32:`, `sha256:`, `sha512:`). */
export async function verifyTaskDigest(task: StoredTask, digest: string): Promise<void> {
  // A copy checked before it was served is not read again.
  const { matches, verifier } = await checkTaskDigest(task, digest);
  if (!matches) verifier!.verify();
}

/** Parses a digest up front so a typo fails before any byte is fetched. */
export function checkDigest(digest: string | undefined): void {
  if (digest) new DigestVerifier(digest);
}
