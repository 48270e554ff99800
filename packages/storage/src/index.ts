/**
 * @packageDocumentation
 * The dfdaemon's local store: where downloaded tasks live, are served from, survive
 * restarts and are evicted.
 *
 * Layout under the store's `dir` (after Dragonfly's Rust client):
 * - `content/tasks/{id[0:3]}/{id}`: one file per task, sized to the content length at
 *   creation (ftruncate: sparse, since Node has no fallocate; a free-space check
 *   guards new tasks instead) and written piece by piece at each piece's offset;
 * - `metadata/tasks/{id[0:3]}/{id}.json`: the task record (length, piece length,
 *   response header, URL/tag/application/type, timestamps), replaced atomically by
 *   write-to-temp and rename;
 * - `metadata/tasks/{id[0:3]}/{id}.pieces`: an append-only log of finished pieces,
 *   24-byte records that carry their own CRC, so a torn last record is recognised.
 *
 * Crash safety. A piece counts as finished only once its bytes are written, its CRC-32
 * (and the sender's digest, if given) checked and its log record appended; nothing is
 * fsynced per piece (a large task's content is fdatasynced in the background every
 * 16 MiB, only to spread the disk's work). Completing a task fdatasyncs the content
 * and durably rewrites the record with every piece's digest (written and synced while
 * the content syncs, renamed into place only once it is durable), then drops the log:
 * complete tasks are trusted on restart. An incomplete task's pieces are re-read and
 * checked against their CRCs on restart (all of them after a crash, only those written
 * after the last clean shutdown's fsync otherwise), and those that fail are forgotten.
 * A record that does not parse drops its task, logged, and the other tasks load.
 *
 * Direct I/O. Piece bytes in page-aligned buffers ({@link allocateAligned}, as the
 * daemon's piece downloader uses) are written with O_DIRECT where the file system takes
 * it: a download then neither fills the page cache (memory that counts against a
 * daemon's cgroup, and that some hosts charge dearly for on first touch) nor evicts
 * what the host's other programs cache. Unaligned bytes (a task's last partial block,
 * a source's arbitrary chunks) go through the page cache as before: a seed's copy from
 * the origin stays warm for the children it is about to serve. Reads always use the
 * page cache, so a piece that is served many times is read from disk once.
 *
 * Concurrency. Any number of tasks, readers and writers at once; two writers of one
 * piece take turns (the first good copy wins), the same task created twice at once is
 * created once. Readers and writers hold a {@link Lease} while they work, and GC and
 * delete never remove a task that is held.
 *
 * Not covered: two processes sharing one `dir` (a daemon owns its store), content of
 * unknown length, and whole-file digests (check them while streaming the task out).
 *
 * @example
 * ```ts
 * const storage = await Storage.open({ dir: "/var/lib/df" });
 * const task = await storage.createTask({ taskId, contentLength, pieceLength });
 * await task.writePiece(0, bytes, { digest: "crc32:1234" });
 * for await (const chunk of task.read({ start: 0, length: 100 }, { wait: true })) use(chunk);
 * await task.markComplete();
 * await storage.exportTask(taskId, "/tmp/out", { overwrite: true });
 * ```
 */
export { Storage, type StorageOptions, type CreateTaskOptions, type DeleteTaskOptions, type GcReport } from "./storage.js";
export { Task, type Lease, type PieceSource, type ReadOptions, type TaskInfo, type WritePieceOptions } from "./task.js";
export type { Piece } from "./piece-table.js";
export type { ArrivingPiece } from "./arriving.js";
export type { StoredValidators, TaskDescriptor } from "./metadata.js";
export { allocateAligned, allocateAlignedSet, isAligned, DIRECT_IO_ALIGNMENT } from "./direct-io.js";
export { statfsDiskUsage, usagePercent, type DiskUsage, type DiskUsageSource } from "./disk-usage.js";
export type { GcOptions, Eviction, EvictionReason } from "./gc.js";
export type { ExportMode, ExportOptions, ExportResult } from "./export.js";
