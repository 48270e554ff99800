import { constants } from "node:fs";
import { copyFile, link, lstat, mkdir, realpath, rename, rm } from "node:fs/promises";
import path from "node:path";
import { DfError, toDfError } from "@df/interface";

/**
 * `copy` (the default) gives the output bytes of its own: a copy-on-write clone
 * (reflink) where the file system can make one, else a kernel copy. `hardlink` shares
 * the store's inode and fails instead of copying (Dragonfly's `force_hard_link`): only
 * when the user asks, since writing into such an output changes the cached task.
 */
export type ExportMode = "hardlink" | "copy";

export interface ExportOptions {
  /** Replace an existing file at the output path (atomically, by rename). */
  overwrite?: boolean;
  /**
   * Refuse (PERMISSION_DENIED) any output path that does not resolve to somewhere
   * inside this folder, whether by `..` or through a symbolic link.
   */
  within?: string;
  mode?: ExportMode;
}

export interface ExportResult {
  path: string;
  method: "hardlink" | "copy";
}

let sequence = 0;

/**
 * Puts a copy of `source` at `output`. By default through `copyFile` with
 * COPYFILE_FICLONE: a reflink on btrfs/XFS (instant, shares blocks until either side
 * writes), else the kernel's copy; never through memory. Either way editing or
 * truncating the output leaves the cached task alone. A hard link (mode `hardlink`,
 * asked for by the user) costs nothing but shares the inode: writing into the output
 * in place changes the cached task too.
 */
export async function exportFile(source: string, output: string, options: ExportOptions = {}): Promise<ExportResult> {
  const target = path.resolve(output);
  const mode = options.mode ?? "copy";
  // The common case in one system call: a new name in an existing folder. link()
  // refuses an existing target, so anything else (no folder yet, a file or folder in
  // the way, another file system) takes the careful path below.
  if (mode === "hardlink" && !options.overwrite && options.within === undefined && (await link(source, target).then(() => true, () => false))) {
    return { path: target, method: "hardlink" };
  }
  if (options.within !== undefined) await assertWithin(options.within, target);
  await mkdir(path.dirname(target), { recursive: true });
  // Checked again now that the folders exist, against a symlink swapped in meanwhile.
  if (options.within !== undefined) await assertWithin(options.within, target);

  const existing = await lstat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw toDfError(error);
  });
  if (existing?.isDirectory()) {
    throw new DfError("INVALID_ARGUMENT", `output ${target} is a directory; give a file path`, { details: { output: target } });
  }
  if (existing && !options.overwrite) throw alreadyExists(target);

  if (mode === "hardlink") {
    try {
      await place(target, options.overwrite ?? false, (to) => link(source, to));
      return { path: target, method: "hardlink" };
    } catch (error) {
      throw linkRefused(error, source, target) ?? mapped(error, target);
    }
  }
  try {
    await place(target, options.overwrite ?? false, (to, exclusive) =>
      copyFile(source, to, constants.COPYFILE_FICLONE | (exclusive ? constants.COPYFILE_EXCL : 0)),
    );
  } catch (error) {
    throw mapped(error, target);
  }
  return { path: target, method: "copy" };
}

/**
 * Without overwrite the file is made at `target` itself with an exclusive create, so
 * two exports racing for one path cannot both win; with overwrite it is made beside
 * the target and renamed over it, so readers never see a half-written file.
 */
async function place(target: string, overwrite: boolean, make: (to: string, exclusive: boolean) => Promise<void>): Promise<void> {
  if (!overwrite) {
    try {
      await make(target, true);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") await rm(target, { force: true }).catch(() => {});
      throw error;
    }
    return;
  }
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${++sequence}.df-export.tmp`);
  try {
    await make(temp, true);
    await rename(temp, target);
    // rename(2) is a no-op that leaves `temp` in place when both names are already
    // links to one inode (re-exporting a task over its own earlier hard link).
    await rm(temp, { force: true });
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
}

async function assertWithin(within: string, target: string): Promise<void> {
  const root = path.resolve(within);
  if (!isInside(root, target)) {
    throw new DfError("PERMISSION_DENIED", `output ${target} is outside the allowed folder ${root}`, {
      reason: "output-escapes",
      details: { output: target, within: root },
    });
  }
  const realRoot = await realpath(root).catch((error: unknown) => {
    throw new DfError("INVALID_ARGUMENT", `the allowed folder ${root} does not exist`, { cause: error, details: { within: root } });
  });
  // Resolve the deepest existing ancestor; the folders below it do not exist yet, so
  // they cannot be links.
  let existing = path.dirname(target);
  let resolved: string | undefined;
  while (resolved === undefined) {
    try {
      resolved = await realpath(existing);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || existing === path.dirname(existing)) throw toDfError(error);
      existing = path.dirname(existing);
    }
  }
  const real = path.join(resolved, path.relative(existing, target));
  if (!isInside(realRoot, real)) {
    throw new DfError("PERMISSION_DENIED", `output ${target} resolves to ${real}, outside the allowed folder ${realRoot} (through a symbolic link)`, {
      reason: "output-escapes",
      details: { output: target, resolved: real, within: realRoot },
    });
  }
}

/** True when `child` lies strictly below `parent`. */
function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative !== "" && relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/** Why a hard link the caller insisted on cannot be made, in the caller's terms; undefined for other errors. */
function linkRefused(error: unknown, source: string, target: string): DfError | undefined {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  const why: Record<string, string> = {
    EXDEV: "the output is on another file system than the cache",
    EPERM: "the file system or its protections refuse hard links here",
    ENOTSUP: "the file system does not support hard links",
    EOPNOTSUPP: "the file system does not support hard links",
    EMLINK: "the cached file has too many links already",
  };
  const reason = why[code];
  if (reason === undefined) return undefined;
  return new DfError("FAILED_PRECONDITION", `cannot hard-link ${target} to the cached copy ${source}: ${reason}; write it without a hard link to get a copy`, {
    cause: error,
    reason: code.toLowerCase(),
    details: { output: target, code },
  });
}

function alreadyExists(target: string): DfError {
  return new DfError("ALREADY_EXISTS", `output ${target} already exists; pass overwrite to replace it`, { details: { output: target } });
}

function mapped(error: unknown, target: string): DfError {
  if ((error as NodeJS.ErrnoException).code === "EEXIST") return alreadyExists(target);
  return toDfError(error);
}
