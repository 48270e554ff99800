import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { DfError } from "@df/interface";

/**
 * A migrated, empty PGlite data dir (PGlite's `dumpDataDir` tarball), made from the
 * migrations when the package is built: a new embedded database is this archive
 * unpacked, not initdb run in WebAssembly (seconds, and hundreds of MB the process
 * keeps). The same path from `src/` and `dist/`, so tests find it too. Missing (not
 * built yet): PGlite runs initdb as before.
 */
export const PGLITE_TEMPLATE = fileURLToPath(new URL("../../dist/pglite-template.tar.gz", import.meta.url));

const gunzipAsync = promisify(gunzip);
const BLOCK = 512;

/** The archive's bytes (gunzipped), or undefined when there is no such file. */
export async function readTemplate(file: string): Promise<Buffer | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return undefined;
  }
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipAsync(bytes) : bytes;
}

/**
 * Makes `dir` a PGlite data dir unpacked from `tar` when it holds none yet (no
 * PG_VERSION, and empty or missing). Unpacked next to it and renamed into place, so an
 * interrupted start leaves no half a database. Returns false when `dir` was left as is.
 */
export async function unpackDataDir(tar: Uint8Array, dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch(() => undefined);
  if (entries && entries.length > 0) return false;
  const tmp = `${dir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await extractTar(tar, tmp);
    if (entries) await rmdir(dir);
    await rename(tmp, dir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
  return true;
}

/** Writes a tar's files and folders under `root` (plain ustar, as PGlite's dumpDataDir makes). */
async function extractTar(tar: Uint8Array, root: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const made = new Set<string>([root]);
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > tar.length) throw invalid("the archive is truncated");
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // the end-of-archive blocks
    if (checksum(header) !== parseInt(field(header, 148, 8) || "-1", 8)) throw invalid(`bad header checksum at byte ${offset}`);
    const name = field(header, 0, 100);
    const size = parseInt(field(header, 124, 12) || "0", 8);
    const type = String.fromCharCode(header[156]!);
    const path = normalize(join(root, name));
    if (!path.startsWith(root + sep) && path !== root) throw invalid(`entry "${name}" is outside the data dir`);
    const data = offset + BLOCK;
    if (data + size > tar.length) throw invalid("the archive is truncated");
    if (type === "5") {
      await mkdir(path, { recursive: true, mode: 0o700 });
      made.add(path);
    } else if (type === "0" || type === "\0") {
      if (!made.has(dirname(path))) {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        made.add(dirname(path));
      }
      await writeFile(path, tar.subarray(data, data + size), { mode: 0o600 });
    }
    offset = data + Math.ceil(size / BLOCK) * BLOCK;
  }
  await stat(join(root, "PG_VERSION")).catch((error: unknown) => {
    throw invalid("the archive holds no PG_VERSION", error);
  });
}

/** A NUL-terminated text field of a tar header. */
function field(header: Uint8Array, from: number, length: number): string {
  const bytes = header.subarray(from, from + length);
  const end = bytes.indexOf(0);
  return Buffer.from(end >= 0 ? bytes.subarray(0, end) : bytes).toString("utf8").trim();
}

/** The header's byte sum, its checksum field counted as spaces. */
function checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum;
}

function invalid(why: string, cause?: unknown): DfError {
  return new DfError("INTERNAL", `database template: ${why}`, { reason: "invalid-template", ...(cause ? { cause } : {}) });
}
