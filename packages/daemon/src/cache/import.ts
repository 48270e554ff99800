import path from "node:path";
import { pathToFileURL } from "node:url";
import { DfError, hasErrorCode, toDfError } from "@df/interface";
import { crc32, formatCrc32, pieceLengthFor } from "@df/piece";
import { common, type daemonDownload } from "@df/rpc";
import type { Task as StoredTask } from "@df/storage";
import { createLocalSource } from "@df/source-local";
import { identify, storedIdentity, type TaskIdentity } from "../task/identity.js";
import type { CacheDeps } from "./deps.js";
import { crc32Combine } from "./crc-combine.js";
import { announceStored } from "./scheduler-calls.js";

/** Pieces written at once: one is read while the store writes (and checksums) the other. */
const WRITES_IN_FLIGHT = 2;
/**
 * Read buffers, reused in turn: the one being read and those being written. A fresh
 * buffer per piece cost more than the write itself (new memory is slow to touch here).
 */
const READ_BUFFERS = WRITES_IN_FLIGHT + 1;

export interface ImportResult {
  task: StoredTask;
  identity: TaskIdentity;
  /** True when this host already held the same content (the import only re-announced it). */
  reused: boolean;
}

/**
 * dfcache import: the file at `request.path` becomes the complete task named by
 * `request.url` (dfcache passes `d7y:/<cid>`), split into pieces with their CRC-32s,
 * stored, then announced to the task's scheduler as a complete peer.
 *
 * Same ID, different bytes — the defined result:
 * - on this host, a complete copy with the same length and piece CRCs is reused (only
 *   re-announced); one with other content is ALREADY_EXISTS (`task-content-conflict`)
 *   and stays as it was: delete it first to replace it;
 * - on another host, the scheduler refuses the announce with ALREADY_EXISTS while a
 *   live peer holds other content (length or whole-file CRC-32 differ); the copy just
 *   stored here is removed again, so no peer can serve the second version.
 *
 * A scheduler that cannot be reached leaves the complete local copy in place and fails
 * with UNAVAILABLE: importing again re-announces it without storing it again.
 */
export async function importTask(deps: CacheDeps, request: daemonDownload.ImportTaskRequest, signal?: AbortSignal): Promise<ImportResult> {
  const file = request.path;
  if (!file || !path.isAbsolute(file)) {
    throw new DfError("INVALID_ARGUMENT", `import path "${file}" must be absolute: the daemon does not know the client's working directory`, {
      reason: "relative-path",
    });
  }
  if (!request.url) {
    throw new DfError("INVALID_ARGUMENT", "import needs url naming the data (dfcache passes d7y:/<cid>); content-derived IDs are not supported yet", {
      reason: "missing-url",
    });
  }
  const url = pathToFileURL(file).href;
  const probe = createLocalSource();
  const stat = await probe.stat({ url }, signal ? { signal } : {});
  const contentLength = stat.contentLength ?? 0;
  const pieceLength = pieceLengthFor(contentLength, request.pieceLength || undefined);
  const identity = identify({
    url: request.url,
    type: request.type === common.TaskType.STANDARD ? common.TaskType.STANDARD : common.TaskType.PERSISTENT_CACHE,
    tag: request.tag,
    application: request.application,
    pieceLength: request.pieceLength || undefined,
    filteredQueryParams: [],
  });
  const { taskId } = identity;
  if (deps.conductor.runOf(taskId)) {
    throw new DfError("FAILED_PRECONDITION", `task ${taskId} is being downloaded on this host; import it once that ends`, {
      reason: "task-in-progress",
      details: { taskId },
    });
  }
  const source = createLocalSource({ chunkSize: Math.max(4096, pieceLength) });
  const existing = deps.storage.getTask(taskId);
  if (existing?.complete) {
    await assertSameContent(existing, url, contentLength, source, signal);
    await announceStored(deps, identity, existing, wholeDigest(existing));
    return { task: existing, identity, reused: true };
  }
  // Pieces of an interrupted download or import of this ID: start over from the file.
  if (existing) await deps.storage.deleteTask(taskId, { defer: true });

  const task = await deps.storage.createTask({
    taskId,
    contentLength,
    pieceLength,
    ...storedIdentity(identity),
  });
  const lease = task.acquire();
  try {
    await storePieces(task, source, url, contentLength, signal);
    await task.markComplete();
  } catch (error) {
    lease.release();
    await deps.storage.deleteTask(taskId, { defer: true }).catch(() => {});
    throw toDfError(error);
  }
  lease.release();
  try {
    await announceStored(deps, identity, task, wholeDigest(task));
  } catch (error) {
    if (hasErrorCode(error, "ALREADY_EXISTS")) await deps.storage.deleteTask(taskId, { defer: true }).catch(() => {});
    else if (hasErrorCode(error, "UNAVAILABLE") || hasErrorCode(error, "DEADLINE_EXCEEDED")) {
      throw new DfError("UNAVAILABLE", `imported ${file} as task ${taskId} on this host, but no scheduler could be told: ${(error as Error).message}; import again to retry the announce`, {
        cause: error,
        reason: "announce-failed",
        details: { taskId },
      });
    }
    throw error;
  }
  deps.logger.info("imported a file", { taskId, path: file, contentLength, pieces: task.pieceCount });
  return { task, identity, reused: false };
}

/** Reads the file in piece-sized chunks and writes each as a piece (two in flight). */
async function storePieces(
  task: StoredTask,
  source: ReturnType<typeof createLocalSource>,
  url: string,
  contentLength: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (contentLength === 0) return;
  // Chunks are whole pieces (chunkSize is the piece length), so each goes to the store
  // as it is; its buffer is read into again only after its write has ended.
  const response = await source.get({ url, expectedLength: contentLength }, { recycle: READ_BUFFERS, ...(signal ? { signal } : {}) });
  const writes: Promise<unknown>[] = [];
  try {
    for await (const piece of pieceChunks(response.body, task.pieceLength)) {
      if (writes.length >= WRITES_IN_FLIGHT) await writes.shift();
      writes.push(task.writePiece(piece.number, piece.data, signal ? { signal } : {}));
    }
    await Promise.all(writes);
  } catch (error) {
    await response.cancel(error);
    await Promise.allSettled(writes);
    throw error;
  }
}

/** Regroups a body into whole pieces (the last may be short). */
async function* pieceChunks(body: AsyncIterable<Uint8Array>, pieceLength: number): AsyncGenerator<{ number: number; data: Uint8Array }> {
  let number = 0;
  let parts: Uint8Array[] = [];
  let held = 0;
  for await (const chunk of body) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(pieceLength - held, chunk.byteLength - offset);
      parts.push(offset === 0 && take === chunk.byteLength ? chunk : chunk.subarray(offset, offset + take));
      held += take;
      offset += take;
      if (held === pieceLength) {
        yield { number: number++, data: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
        parts = [];
        held = 0;
      }
    }
  }
  if (held > 0) yield { number, data: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
}

/** The whole content's CRC-32, from the stored pieces' CRCs. */
export function wholeDigest(task: StoredTask): string {
  let crc = 0;
  for (const piece of task.pieces()) crc = crc32Combine(crc, Number(piece.digest.slice("crc32:".length)), piece.length);
  return formatCrc32(crc);
}

async function assertSameContent(
  task: StoredTask,
  url: string,
  contentLength: number,
  source: ReturnType<typeof createLocalSource>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const conflict = (why: string) =>
    new DfError(
      "ALREADY_EXISTS",
      `task ${task.id} is already on this host with different content (${why}); delete it first (dfcache delete) to replace it, or import under another cid or tag`,
      { reason: "task-content-conflict", details: { taskId: task.id } },
    );
  if (task.contentLength !== contentLength) throw conflict(`${task.contentLength} bytes stored, the file has ${contentLength}`);
  if (contentLength === 0) return;
  const response = await source.get({ url, expectedLength: contentLength }, { recycle: 1, ...(signal ? { signal } : {}) });
  for await (const piece of pieceChunks(response.body, task.pieceLength)) {
    const stored = task.piece(piece.number);
    if (!stored || stored.digest !== formatCrc32(crc32(piece.data))) {
      await response.cancel();
      throw conflict(`piece ${piece.number} differs`);
    }
  }
}
