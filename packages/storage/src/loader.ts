import { mkdir, open, readdir, readFile, rm, stat, truncate } from "node:fs/promises";
import path from "node:path";
import { DfError, errorMessage, type Logger } from "@df/interface";
import { pieceCount } from "@df/piece";
import { crc32 } from "./crc.js";
import { writeFileAtomic } from "./atomic-file.js";
import { mapLimit } from "./concurrency.js";
import { isTaskId, METADATA_SUFFIX, PIECE_LOG_SUFFIX, type Layout } from "./layout.js";
import { decodeTaskRecord, encodeTaskRecord, type TaskRecord } from "./metadata.js";
import { readFully } from "./piece-io.js";
import { decodePieceLog, encodePieceRecords, type PieceLogRecord } from "./piece-log.js";
import { PieceTable } from "./piece-table.js";

/** A task as found on disk, checked and ready to be opened. */
export interface LoadedTask {
  record: TaskRecord;
  table: PieceTable;
  /** Records in the piece log file as it now stands. */
  logRecords: number;
}

export interface LoadResult {
  tasks: LoadedTask[];
  /** IDs of tasks whose files were unusable and have been removed. */
  dropped: string[];
}

/** Reading at most this much per verify call keeps memory flat at any piece length. */
const VERIFY_CHUNK = 256 * 1024;

/**
 * Loads every task under the store. Files are read with bounded concurrency, since the
 * cost is thread-pool round trips, not bytes. What a crash can leave behind is repaired
 * here:
 * - leftover temporary files are removed;
 * - a record that does not parse drops its task (logged; the others load);
 * - a content file that is missing drops the task; one of the wrong size drops a
 *   complete task and is resized for an incomplete one;
 * - an incomplete task's piece log loses torn and garbled records, and every piece not
 *   covered by the last clean shutdown's fsync is re-read and checked against its CRC;
 *   pieces that fail are forgotten and fetched again;
 * - content and logs with no record (a crash mid-create or mid-delete) are removed.
 */
export async function loadTasks(layout: Layout, logger: Logger, concurrency: number): Promise<LoadResult> {
  await Promise.all([mkdir(layout.contentRoot, { recursive: true }), mkdir(layout.metadataRoot, { recursive: true })]);
  const [metadataFiles, contentFiles] = await Promise.all([
    listPrefixed(layout.metadataRoot, concurrency),
    listPrefixed(layout.contentRoot, concurrency),
  ]);

  const records = new Set<string>();
  const logs = new Set<string>();
  const leftovers: string[] = [];
  for (const file of metadataFiles) {
    const name = path.basename(file);
    if (name.endsWith(METADATA_SUFFIX) && isCanonical(file, METADATA_SUFFIX)) records.add(name.slice(0, -METADATA_SUFFIX.length));
    else if (name.endsWith(PIECE_LOG_SUFFIX) && isCanonical(file, PIECE_LOG_SUFFIX)) logs.add(name.slice(0, -PIECE_LOG_SUFFIX.length));
    else leftovers.push(file);
  }

  const dropped: string[] = [];
  const loaded = await mapLimit([...records], concurrency, async (taskId) => {
    try {
      return await loadTask(layout, logger, taskId, logs.has(taskId));
    } catch (error) {
      dropped.push(taskId);
      logger.warn("dropping a task that cannot be loaded", { taskId, error: errorMessage(error) });
      const paths = layout.paths(taskId);
      await Promise.all([paths.metadata, paths.pieceLog, paths.content].map((file) => rm(file, { force: true })));
      return undefined;
    }
  });
  const tasks = loaded.filter((task): task is LoadedTask => task !== undefined);

  const kept = new Set(tasks.map((task) => task.record.taskId));
  for (const taskId of logs) if (!records.has(taskId)) leftovers.push(layout.paths(taskId).pieceLog);
  for (const file of contentFiles) if (!isCanonical(file, "") || !kept.has(path.basename(file))) leftovers.push(file);
  if (leftovers.length > 0) logger.info("removing files no task owns", { count: leftovers.length });
  await mapLimit(leftovers, concurrency, (file) => rm(file, { force: true, recursive: true }));
  return { tasks, dropped };
}

/**
 * True for a file named after a valid task ID, in the prefix folder that ID maps to.
 * Anything else is not ours to load (and never makes the loader touch the files of
 * the task whose name it borrows).
 */
function isCanonical(file: string, suffix: string): boolean {
  const taskId = path.basename(file).slice(0, path.basename(file).length - suffix.length);
  return isTaskId(taskId) && path.basename(path.dirname(file)) === taskId.slice(0, 3);
}

/** Every entry of every prefix directory under `root`. */
async function listPrefixed(root: string, concurrency: number): Promise<string[]> {
  const prefixes = await readdir(root, { withFileTypes: true });
  const lists = await mapLimit(
    prefixes.filter((entry) => entry.isDirectory()),
    concurrency,
    async (prefix) => {
      const dir = path.join(root, prefix.name);
      return (await readdir(dir)).map((name) => path.join(dir, name));
    },
  );
  return lists.flat();
}

async function loadTask(layout: Layout, logger: Logger, taskId: string, hasLog: boolean): Promise<LoadedTask> {
  const paths = layout.paths(taskId);
  const record = decodeTaskRecord(await readFile(paths.metadata, "utf8"), taskId);
  const { contentLength, pieceLength } = record;
  const size = (await stat(paths.content)).size;
  const table = new PieceTable(contentLength, pieceLength, pieceCount(contentLength, pieceLength));

  if (record.pieces) {
    if (size !== contentLength) {
      throw new DfError("DATA_LOSS", `the content file of complete task ${taskId} is ${size} bytes, expected ${contentLength}`, {
        reason: "content-truncated",
        details: { taskId, size, contentLength },
      });
    }
    record.pieces.forEach(([crc, finishedAt], number) => table.set(number, crc, finishedAt));
    // A crash between writing the complete record and unlinking the log leaves both.
    if (hasLog) await rm(paths.pieceLog, { force: true });
    return { record, table, logRecords: 0 };
  }

  let trusted = record.syncedPieceRecords;
  if (size !== contentLength) {
    logger.warn("resizing the content file of an incomplete task", { taskId, size, contentLength });
    await truncate(paths.content, contentLength);
    trusted = 0;
  }
  const log = hasLog ? decodePieceLog(await readFile(paths.pieceLog)) : { records: [], corrupt: 0, tornBytes: 0 };
  let rewrite = log.corrupt > 0 || log.tornBytes > 0;
  if (log.corrupt > 0) trusted = 0;

  // Later records win over earlier ones for the same piece (a piece dropped by a past
  // load and fetched again is logged twice).
  const latest = new Map<number, { entry: PieceLogRecord; index: number }>();
  log.records.forEach((entry, index) => {
    if (entry.number >= table.pieceCount || entry.length !== table.lengthOf(entry.number)) {
      rewrite = true;
      return;
    }
    if (latest.has(entry.number)) rewrite = true;
    latest.set(entry.number, { entry, index });
  });

  const survivors: Array<{ entry: PieceLogRecord; index: number }> = [];
  const suspects = [...latest.values()].filter(({ index }) => index >= trusted);
  const bad = suspects.length > 0 ? await verifyPieces(paths.content, pieceLength, suspects.map(({ entry }) => entry)) : new Set<number>();
  for (const item of latest.values()) {
    if (bad.has(item.entry.number)) continue;
    survivors.push(item);
    table.set(item.entry.number, item.entry.crc, item.entry.finishedAt);
  }
  if (bad.size > 0) {
    logger.warn("pieces of an incomplete task failed their CRC on reload and will be fetched again", {
      taskId,
      pieces: [...bad].sort((a, b) => a - b),
    });
    rewrite = true;
  }

  let logRecords = log.records.length;
  if (rewrite) {
    survivors.sort((a, b) => a.index - b.index);
    // Trusted records come first in the log and keep their order, so the rewritten log
    // starts with exactly the trusted survivors. The record is rewritten first: after a
    // crash between the two writes it trusts fewer records than it could, never more.
    const trustedSurvivors = survivors.filter(({ index }) => index < trusted).length;
    if (trustedSurvivors !== record.syncedPieceRecords) {
      record.syncedPieceRecords = trustedSurvivors;
      await writeFileAtomic(paths.metadata, encodeTaskRecord(record));
    }
    await writeFileAtomic(paths.pieceLog, encodePieceRecords(survivors.map(({ entry }) => entry)));
    logRecords = survivors.length;
  }
  record.updatedAt = Math.max(record.updatedAt, table.lastFinishedAt);
  record.accessedAt = Math.max(record.accessedAt, record.updatedAt);
  return { record, table, logRecords };
}

/** Re-reads each piece and returns the numbers of those whose CRC no longer matches. */
async function verifyPieces(content: string, pieceLength: number, entries: readonly PieceLogRecord[]): Promise<Set<number>> {
  const bad = new Set<number>();
  const handle = await open(content, "r");
  try {
    const buffer = Buffer.allocUnsafe(Math.min(VERIFY_CHUNK, Math.max(...entries.map((entry) => entry.length))));
    for (const entry of entries) {
      const offset = entry.number * pieceLength;
      let crc = 0;
      for (let done = 0; done < entry.length; ) {
        const view = buffer.subarray(0, Math.min(buffer.length, entry.length - done));
        await readFully(handle, view, offset + done);
        crc = crc32(view, crc);
        done += view.length;
      }
      if (crc !== entry.crc) bad.add(entry.number);
    }
  } finally {
    await handle.close();
  }
  return bad;
}
