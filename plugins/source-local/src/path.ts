import { realpath } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DfError, toDfError } from "@df/interface";

/** The absolute path a `file:` URL names; anything else is INVALID_ARGUMENT. */
export function pathOfUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new DfError("INVALID_ARGUMENT", `"${url}" is not a URL; give file:///absolute/path`, { cause: error, reason: "invalid-url" });
  }
  if (parsed.protocol !== "file:") {
    throw new DfError("INVALID_ARGUMENT", `the local source serves file: URLs only, got ${parsed.protocol}`, {
      reason: "unsupported-scheme",
      details: { url },
    });
  }
  if (parsed.host !== "" && parsed.host !== "localhost") {
    throw new DfError("INVALID_ARGUMENT", `file URL ${url} names host "${parsed.host}"; the local source reads this node's files only`, {
      reason: "remote-file-url",
    });
  }
  return fileURLToPath(parsed);
}


/**
 * Resolves symbolic links and checks the result lies inside one of `roots`, so neither
 * `..` nor a link placed under a root can reach other files. No roots: no check.
 */
export async function checkRoots(file: string, roots: readonly string[]): Promise<void> {
  if (roots.length === 0) return;
  const real = await realpath(file).catch((error: unknown) => {
    throw mapFsError(error, file);
  });
  for (const root of roots) {
    const realRoot = await realpath(root).catch(() => path.resolve(root));
    const relative = path.relative(realRoot, real);
    if (relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative))) return;
  }
  throw new DfError("PERMISSION_DENIED", `${file} is outside the folders the local source may read (${roots.join(", ")})`, {
    reason: "outside-roots",
    details: { path: file },
  });
}

/** A file-system error as a DfError that names the file. */
export function mapFsError(error: unknown, file: string): DfError {
  const mapped = toDfError(error);
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === "ENOENT" || errno === "ENOTDIR") {
    return new DfError("NOT_FOUND", `${file} does not exist`, { cause: error, reason: "file-not-found", details: { path: file } });
  }
  if (errno === "EACCES" || errno === "EPERM") {
    return new DfError("PERMISSION_DENIED", `${file} cannot be read: permission denied`, { cause: error, reason: "unreadable", details: { path: file } });
  }
  if (errno === "EISDIR") return notAFile(file, "a directory");
  return mapped;
}

export function notAFile(file: string, what: string): DfError {
  return new DfError("INVALID_ARGUMENT", `${file} is ${what}, not a regular file; give a file`, {
    reason: "not-a-file",
    details: { path: file },
  });
}
