import { mkdir, open, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { DfError, noopLogger, toDfError, type AbortOptions, type Logger } from "@df/interface";
import { pieceCount, pieceLengthFor } from "@df/piece";
import { writeFileAtomic } from "./atomic-file.js";
import { mapLimit } from "./concurrency.js";
import { DirectIOSwitch, probeDirectIO } from "./direct-io.js";
import { statfsDiskUsage, type DiskUsage, type DiskUsageSource } from "./disk-usage.js";
import { exportFile, type ExportOptions, type ExportResult } from "./export.js";
import { planGc, resolveGcConfig, type Eviction, type GcCandidate, type GcConfig, type GcOptions } from "./gc.js";
import { planRoom } from "./space.js";
import { assertTaskId, Layout, type TaskPaths } from "./layout.js";
import { loadTasks } from "./loader.js";
import { encodeTaskRecord, type StoredValidators, type TaskDescriptor } from "./metadata.js";
import { PieceTable } from "./piece-table.js";
import { Task, type Lease, type TaskContext } from "./task.js";

export interface StorageOptions {
  /** The store's root folder; created if missing. One process may own it at a time. */
  dir: string;
  logger?: Logger;
  gc?: GcOptions;
  /**
   * Where disk usage comes from, for GC watermarks and the free-space check of new
   * tasks. Defaults to `fs.statfs` on `dir`; tests inject fixed figures.
   */
  diskUsage?: DiskUsageSource;
  /**
   * The most bytes the store's tasks may hold, on top of what the file system has free
   * (unset: the file system's free space is the only limit). Free space, GC's
   * watermarks and eviction on demand are then measured against it.
   */
  quotaBytes?: number;
  /** File operations in flight while loading (default 64). */
  loadConcurrency?: number;
  /** ms since the epoch, for timestamps and TTLs (default `Date.now`); tests move it. */
  clock?: () => number;
  /**
   * Write aligned piece bytes (from {@link allocateAligned} buffers) with direct I/O,
   * bypassing the page cache (default true). Turned off by itself where the file system
   * refuses it. Off, every write fills the page cache, which later reads of fresh
   * pieces may find warm, at the price of memory the host may charge for.
   */
  directIO?: boolean;
}

export interface CreateTaskOptions {
  taskId: string;
  /** Must be known: the content file is sized to it up front. */
  contentLength: number;
  /**
   * Defaults to Dragonfly's formula for the content length (4–64 MiB). Any positive
   * length up to 2^32 − 1 is accepted; policy on fixed lengths belongs to the caller.
   */
  pieceLength?: number;
  type?: string;
  url?: string;
  tag?: string;
  application?: string;
  filteredQueryParams?: string[];
  responseHeader?: Record<string, string>;
  /** Every version of one URL shares it (see TaskDescriptor). */
  baseTaskId?: string;
  version?: string;
  validators?: StoredValidators;
}

export interface DeleteTaskOptions {
  /**
   * A task in use is refused (FAILED_PRECONDITION, `task-in-use`) unless `defer`: then
   * it disappears from the store at once and its files go when the last lease ends.
   */
  defer?: boolean;
}

export interface GcReport {
  evicted: Eviction[];
  /** Disk usage before the run; undefined if it could not be read. */
  usage: DiskUsage | undefined;
  bytesToFree: number;
}

const DEFAULT_LOAD_CONCURRENCY = 64;
const MAX_PIECE_LENGTH_STORED = 0xffff_ffff;

/**
 * The dfdaemon's local store. Each task is one content file, preallocated to its
 * length and filled piece by piece, plus a JSON record and an append-only piece log;
 * see the package documentation for the layout and the crash-safety rules.
 *
 * Open it with {@link Storage.open}, which reloads every task left by a previous run.
 */
export class Storage {
  readonly dir: string;
  readonly #layout: Layout;
  readonly #logger: Logger;
  readonly #diskUsage: DiskUsageSource;
  readonly #gc: GcConfig;
  readonly #tasks = new Map<string, Task>();
  readonly #creating = new Map<string, Promise<Task>>();
  /** Files being removed, so a new task of the same ID waits for them to go. */
  readonly #removing = new Map<string, Promise<void>>();
  readonly #evictionListeners = new Set<(eviction: Eviction) => void>();
  /** Local-hit checks in progress, so concurrent hits of one task read it once. */
  readonly #checking = new Map<string, Promise<boolean>>();
  /** Tasks deleted while in use, waiting for their last lease. */
  readonly #deferred = new Map<string, { task: Task; done: () => void }>();
  readonly #context: TaskContext;
  readonly #clock: () => number;
  readonly #quota: number | undefined;
  /** Free-space checks (and the evictions they make) one at a time, so two never count the same bytes. */
  #spaceTurn: Promise<unknown> = Promise.resolve();
  /** Prefix folders known to exist. */
  readonly #knownFolders = new Set<string>();
  #gcTimer: NodeJS.Timeout | undefined;
  #gcRun: Promise<GcReport> | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    layout: Layout,
    logger: Logger,
    diskUsage: DiskUsageSource,
    gc: GcConfig,
    clock: () => number,
    directIO: DirectIOSwitch,
    quota: number | undefined,
  ) {
    this.dir = layout.root;
    this.#quota = quota;
    this.#layout = layout;
    this.#logger = logger;
    this.#diskUsage = diskUsage;
    this.#gc = gc;
    this.#clock = clock;
    this.#context = { logger, now: clock, onIdle: (task) => this.#onIdle(task), directIO };
  }

  /** Whether aligned piece writes bypass the page cache now (see `StorageOptions.directIO`). */
  get directIO(): boolean {
    return this.#context.directIO.enabled;
  }

  /** Piece bytes written since the store opened: with direct I/O, and through the page cache. */
  writtenBytes(): { direct: number; cached: number } {
    return { ...this.#context.directIO.written };
  }

  /** Opens (or creates) the store at `options.dir` and loads every task in it. */
  static async open(options: StorageOptions): Promise<Storage> {
    if (typeof options.dir !== "string" || options.dir === "") {
      throw new DfError("INVALID_ARGUMENT", "storage needs a dir: the folder to keep tasks in");
    }
    if (options.quotaBytes !== undefined && !(Number.isSafeInteger(options.quotaBytes) && options.quotaBytes > 0)) {
      throw new DfError("INVALID_ARGUMENT", `storage quotaBytes must be a positive whole number of bytes, got ${String(options.quotaBytes)}`);
    }
    const logger = options.logger ?? noopLogger;
    const gc = resolveGcConfig(options.gc);
    const layout = new Layout(options.dir);
    const started = performance.now();
    const { tasks, dropped } = await loadTasks(layout, logger, options.loadConcurrency ?? DEFAULT_LOAD_CONCURRENCY).catch(
      (error: unknown) => {
        const cause = toDfError(error);
        throw new DfError(cause.code, `cannot open the storage at ${layout.root}: ${cause.message}`, { cause: error, details: { dir: layout.root } });
      },
    );
    const directIO = new DirectIOSwitch(options.directIO ?? true);
    if (directIO.enabled) {
      const refused = await probeDirectIO(layout.root);
      if (refused !== undefined) {
        directIO.disable(refused);
        logger.warn("direct I/O is off; pieces are written through the page cache", { dir: layout.root, reason: refused });
      }
    }
    const storage = new Storage(layout, logger, options.diskUsage ?? statfsDiskUsage, gc, options.clock ?? Date.now, directIO, options.quotaBytes);
    for (const { record, table, logRecords } of tasks) {
      const { format: _format, createdAt, updatedAt, accessedAt, finishedAt, syncedPieceRecords, pieces: _pieces, contentStat, ...descriptor } = record;
      storage.#tasks.set(
        record.taskId,
        new Task({
          descriptor,
          createdAt,
          updatedAt,
          accessedAt,
          ...(finishedAt === undefined ? {} : { finishedAt }),
          ...(contentStat === undefined ? {} : { contentStat }),
          syncedPieceRecords,
          logRecords,
          table,
          paths: layout.paths(record.taskId),
          context: storage.#context,
        }),
      );
    }
    logger.info("storage loaded", {
      dir: layout.root,
      tasks: tasks.length,
      dropped: dropped.length,
      directIO: directIO.enabled,
      ...(directIO.reason === undefined ? {} : { directIOOff: directIO.reason }),
      ms: Math.round(performance.now() - started),
    });
    if (gc.intervalMs > 0) {
      storage.#gcTimer = setInterval(() => {
        storage.runGc().catch((error: unknown) => logger.warn("storage GC failed", { error: String(error) }));
      }, gc.intervalMs);
      storage.#gcTimer.unref();
    }
    return storage;
  }

  /**
   * Creates a task, or returns the existing one when the parameters agree (so a task
   * requested twice at once is created once). A different content length, or a piece
   * length or type given and different, is FAILED_PRECONDITION (`task-conflict`). A new
   * task must fit in the free space (minus what downloads in progress still need), or
   * RESOURCE_EXHAUSTED says how much is needed and how much is free. If a task of the
   * same ID was deleted with `defer` and is still held, this waits until its files are
   * gone.
   */
  async createTask(options: CreateTaskOptions): Promise<Task> {
    this.#assertOpen();
    const descriptor = descriptorOf(options);
    const id = descriptor.taskId;
    for (;;) {
      const existing = this.#tasks.get(id);
      if (existing) return matching(existing, options);
      const pending = this.#creating.get(id) ?? this.#removing.get(id);
      if (!pending) break;
      await pending.catch(() => {});
      this.#assertOpen();
    }
    const creation = this.#create(descriptor);
    this.#creating.set(id, creation);
    try {
      return await creation;
    } finally {
      this.#creating.delete(id);
    }
  }

  async #create(descriptor: TaskDescriptor): Promise<Task> {
    const paths = this.#layout.paths(descriptor.taskId);
    // Checked while the files are made (sparse: they take no space yet); a task that
    // does not fit has its files removed again, and this error wins over any other.
    const space = this.#checkFreeSpace(descriptor).then(() => undefined, (error: unknown) => ({ error }));
    const now = this.#clock();
    const task = new Task({
      descriptor,
      createdAt: now,
      updatedAt: now,
      accessedAt: now,
      syncedPieceRecords: 0,
      logRecords: 0,
      table: new PieceTable(descriptor.contentLength, descriptor.pieceLength, pieceCount(descriptor.contentLength, descriptor.pieceLength)),
      paths,
      context: this.#context,
      fresh: true,
    });
    const made = await this.#makeFiles(task, paths);
    const failure = (await space) ?? made;
    if (failure) {
      this.#knownFolders.clear();
      await Promise.all([paths.metadata, paths.pieceLog, paths.content].map((file) => rm(file, { force: true }).catch(() => {})));
      throw toDfError(failure.error);
    }
    this.#tasks.set(descriptor.taskId, task);
    this.#logger.debug("task created", { taskId: descriptor.taskId, contentLength: descriptor.contentLength });
    return task;
  }

  /**
   * A new task's files, all at once: the loader copes with any of them missing after a
   * crash (no record: content and log are removed; no content: the task is dropped).
   * Resolves with the first failure, once every file operation has settled.
   */
  async #makeFiles(task: Task, paths: TaskPaths): Promise<{ error: unknown } | undefined> {
    // Prefix folders are made once per run: nothing removes them while the store is open.
    const folders = [path.dirname(paths.content), path.dirname(paths.metadata)].filter((dir) => !this.#knownFolders.has(dir));
    try {
      await Promise.all(folders.map((dir) => mkdir(dir, { recursive: true })));
    } catch (error) {
      return { error };
    }
    for (const dir of folders) this.#knownFolders.add(dir);
    const made = await Promise.allSettled([
      removeFile(paths.pieceLog),
      createContent(paths.content, task.contentLength),
      // Not fsynced: after a power loss the worst case is an empty or missing record,
      // and the loader drops such a task with whatever it had.
      writeFileAtomic(paths.metadata, encodeTaskRecord(task.toRecord())),
    ]);
    const failed = made.find((result) => result.status === "rejected");
    return failed ? { error: failed.reason } : undefined;
  }

  /** One check at a time; see {@link #spaceFor}. */
  #checkFreeSpace(descriptor: TaskDescriptor): Promise<void> {
    const turn = this.#spaceTurn.then(() => this.#spaceFor(descriptor));
    this.#spaceTurn = turn.catch(() => {});
    return turn;
  }

  /**
   * Makes sure a new task fits: in the free space, minus what downloads in progress
   * still need. When it does not, idle tasks (no lease: no download, upload or export
   * holds them) are evicted, least recently used first, until it does; if even all of
   * them would not make room, nothing is evicted and RESOURCE_EXHAUSTED says what the
   * task needs, what is free and what eviction could free.
   */
  async #spaceFor(descriptor: TaskDescriptor): Promise<void> {
    const usage = await this.#usage();
    let reserved = 0;
    let downloads = 0;
    for (const task of this.#tasks.values()) {
      if ((task.inUse > 0 || task.fresh) && !task.complete) {
        reserved += task.contentLength - task.finishedBytes;
        downloads++;
      }
    }
    const free = Math.max(0, usage.available - reserved);
    const needed = descriptor.contentLength;
    if (needed <= free) return;
    const plan = planRoom(this.#candidates(), needed - free);
    if (plan.evict.length === 0) {
      const limits = [
        ...(this.#quota === undefined ? [] : [`storage quota ${shortBytes(this.#quota)}`]),
        `${shortBytes(usage.available)} available`,
        `${shortBytes(reserved)} still to come for ${downloads} download(s) in progress`,
      ];
      throw new DfError(
        "RESOURCE_EXHAUSTED",
        `not enough space for task ${descriptor.taskId}: it needs ${formatBytes(needed)} but only ${formatBytes(free)} are free in ${this.dir} ` +
          `(${limits.join(", ")}), and evicting every idle task would free only ${formatBytes(plan.evictable)}; ` +
          `free disk space${this.#quota === undefined ? "" : ", raise storage.quota"} or wait for the downloads and uploads in progress to end`,
        {
          reason: "insufficient-space",
          details: { taskId: descriptor.taskId, needed, free, available: usage.available, reserved, evictable: plan.evictable },
        },
      );
    }
    for (const candidate of plan.evict) {
      const task = this.#tasks.get(candidate.taskId);
      // Picked up since the plan was made: it stays, and the check runs again below.
      if (!task || task.inUse > 0 || task.fresh || this.#closing) continue;
      this.#tasks.delete(task.id);
      task.markDeleted(true);
      await this.#remove(task);
      this.#logger.info("task evicted", { taskId: task.id, reason: "make-room", bytes: candidate.bytes, for: descriptor.taskId });
      this.#evicted({ taskId: task.id, reason: "make-room", bytes: candidate.bytes });
    }
    // Measured again rather than trusted: a task skipped above, or the disk filling meanwhile.
    const after = await this.#usage();
    const stillFree = Math.max(0, after.available - reserved);
    if (needed > stillFree) {
      throw new DfError(
        "RESOURCE_EXHAUSTED",
        `not enough space for task ${descriptor.taskId}: it needs ${formatBytes(needed)} and only ${formatBytes(stillFree)} are free in ${this.dir} after evicting idle tasks; retry, or free disk space`,
        { reason: "insufficient-space", details: { taskId: descriptor.taskId, needed, free: stillFree, available: after.available, reserved } },
      );
    }
  }

  /** What GC and eviction on demand choose from: every task, by last use and bytes held. */
  #candidates(): GcCandidate[] {
    return [...this.#tasks.values()].map((task) => ({
      taskId: task.id,
      accessedAt: task.accessedAt,
      bytes: task.finishedBytes,
      inUse: task.inUse > 0 || task.fresh,
    }));
  }

  /**
   * The file system's figures, or, with a quota, the quota's: total = quota, used =
   * bytes the tasks hold, available = what is left of it (never more than the file
   * system has free).
   */
  async #usage(): Promise<DiskUsage> {
    const disk = await this.#diskUsage(this.dir);
    if (this.#quota === undefined) return disk;
    let used = 0;
    for (const task of this.#tasks.values()) used += task.finishedBytes;
    return { total: this.#quota, used, available: Math.max(0, Math.min(disk.available, this.#quota - used)) };
  }

  /** The task, or undefined if the store does not hold it. */
  getTask(taskId: string): Task | undefined {
    return this.#tasks.get(taskId);
  }

  listTasks(): Task[] {
    return [...this.#tasks.values()];
  }

  /** Holds task `taskId` in use (see {@link Task.acquire}); NOT_FOUND if absent. */
  acquire(taskId: string): Lease {
    this.#assertOpen();
    return this.#require(taskId).acquire();
  }

  /** Removes a task and its files; see {@link DeleteTaskOptions} for tasks in use. */
  async deleteTask(taskId: string, options: DeleteTaskOptions = {}): Promise<void> {
    this.#assertOpen();
    const task = this.#require(taskId);
    if (task.inUse > 0) {
      if (!options.defer) {
        throw new DfError("FAILED_PRECONDITION", `task ${taskId} is in use by ${task.inUse} reader(s) or writer(s); retry later or delete with defer`, {
          reason: "task-in-use",
          details: { taskId, inUse: task.inUse },
        });
      }
      this.#tasks.delete(taskId);
      task.markDeleted(false);
      let done = (): void => {};
      this.#removing.set(taskId, new Promise<void>((resolve) => (done = resolve)));
      this.#deferred.set(taskId, { task, done });
      return;
    }
    this.#tasks.delete(taskId);
    task.markDeleted(true);
    await this.#remove(task);
  }

  /**
   * Puts the content of a complete task at `output`: a hard link on the same file
   * system, else a copy (see {@link ExportOptions}). An existing output is refused
   * (ALREADY_EXISTS) unless `overwrite`.
   */
  async exportTask(taskId: string, output: string, options: ExportOptions = {}): Promise<ExportResult> {
    this.#assertOpen();
    const task = this.#require(taskId);
    if (!task.complete) {
      throw new DfError(
        "FAILED_PRECONDITION",
        `task ${taskId} is not complete (${task.info.finishedPieceCount} of ${task.pieceCount} pieces); export it once it is`,
        { reason: "task-incomplete", details: { taskId } },
      );
    }
    const lease = task.acquire();
    try {
      const unchanged = options.mode === "hardlink" && task.contentUnchanged();
      const result = await exportFile(task.paths.content, output, options);
      // A new link changes the file's ctime: take the new one as the reference, or the
      // next local hit would read the whole task back for nothing.
      if (unchanged && result.method === "hardlink") await task.refreshContentStat().catch(() => {});
      return result;
    } finally {
      lease.release();
    }
  }

  /**
   * Makes sure a complete task's bytes are still the ones its pieces' CRCs describe
   * before they are handed out from this host. Cheap when the content file is as it
   * was at completion (one stat); otherwise every piece is read and checked. A task
   * with bad pieces is deleted (deferred while in use) so the caller fetches it again,
   * and false is returned; true means the task may be served. An incomplete or absent
   * task is true / false respectively: there is nothing complete to check.
   */
  async checkLocalContent(taskId: string, options: AbortOptions = {}): Promise<boolean> {
    const task = this.#tasks.get(taskId);
    if (!task) return false;
    if (!task.complete || task.contentUnchanged()) return true;
    let check = this.#checking.get(taskId);
    if (!check) {
      check = this.#verify(task, options).finally(() => this.#checking.delete(taskId));
      this.#checking.set(taskId, check);
    }
    return check;
  }

  async #verify(task: Task, options: AbortOptions): Promise<boolean> {
    const started = performance.now();
    let bad: number[];
    try {
      bad = await task.verifyContent(options);
    } catch (error) {
      // Deleted or the store closing meanwhile, or the caller gave up: not the file's fault.
      const code = toDfError(error).code;
      if (code === "NOT_FOUND" || code === "FAILED_PRECONDITION" || code === "CANCELLED") throw error;
      // Unreadable (the file was removed, an I/O error): as good as corrupt.
      this.#logger.warn("could not read a stored task back to verify it; removing it so it is fetched again", { taskId: task.id, error: String(error) });
      return this.#dropChanged(task);
    }
    const ms = Math.round(performance.now() - started);
    if (bad.length === 0) {
      this.#logger.info("a stored task's file changed on disk but its pieces still match; serving it", { taskId: task.id, ms });
      return true;
    }
    this.#logger.warn("a stored task's content changed on disk and no longer matches its pieces; removing it so it is fetched again", {
      taskId: task.id,
      badPieces: bad.length,
      pieceCount: task.pieceCount,
      firstBad: bad[0],
      ms,
    });
    return this.#dropChanged(task);
  }

  async #dropChanged(task: Task): Promise<boolean> {
    if (this.#tasks.get(task.id) === task) {
      await this.deleteTask(task.id, { defer: true }).catch(() => {});
      this.#evicted({ taskId: task.id, reason: "content-changed", bytes: task.finishedBytes });
    }
    return false;
  }

  /**
   * Calls `listener` whenever the store itself removes a task (GC, making room for a
   * new one, content that changed on disk), so the daemon can tell the scheduler this
   * host no longer holds it. Returns the unsubscribe function.
   */
  onEvicted(listener: (eviction: Eviction) => void): () => void {
    this.#evictionListeners.add(listener);
    return () => this.#evictionListeners.delete(listener);
  }

  #evicted(eviction: Eviction): void {
    for (const listener of [...this.#evictionListeners]) {
      try {
        listener(eviction);
      } catch (error) {
        this.#logger.warn("an eviction listener threw", { taskId: eviction.taskId, error: String(error) });
      }
    }
  }

  /** Disk usage of the store's file system (or of its quota, if it has one), from the configured source. */
  diskUsage(): Promise<DiskUsage> {
    return this.#usage();
  }

  /**
   * Evicts idle tasks past their TTL, then, above the high watermark, least recently
   * used idle tasks until usage would be at the low watermark. One run at a time.
   */
  runGc(): Promise<GcReport> {
    this.#assertOpen();
    this.#gcRun ??= this.#runGc().finally(() => (this.#gcRun = undefined));
    return this.#gcRun;
  }

  async #runGc(): Promise<GcReport> {
    const usage = await this.#usage().catch((error: unknown) => {
      this.#logger.warn("could not read disk usage; GC applies the TTL only", { error: String(error) });
      return undefined;
    });
    const plan = planGc(this.#candidates(), this.#clock(), usage, this.#gc);
    const evicted: Eviction[] = [];
    for (const eviction of plan.evictions) {
      const task = this.#tasks.get(eviction.taskId);
      // Someone may have picked the task up while earlier evictions were awaited.
      if (!task || task.inUse > 0 || this.#closing) continue;
      this.#tasks.delete(task.id);
      task.markDeleted(true);
      await this.#remove(task);
      evicted.push(eviction);
      this.#logger.info("task evicted", { ...eviction });
      this.#evicted(eviction);
    }
    return { evicted, usage, bytesToFree: plan.bytesToFree };
  }

  /**
   * Stops GC, lets running writes finish, fsyncs incomplete tasks written in this run
   * (so the next start need not re-verify them), persists access times and closes every
   * file. Outstanding leases then fail with FAILED_PRECONDITION.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#gcTimer);
    await Promise.allSettled([...this.#creating.values()]);
    await this.#gcRun?.catch(() => {});
    for (const { task } of this.#deferred.values()) this.#finishDeferred(task);
    await mapLimit([...this.#tasks.values()], DEFAULT_LOAD_CONCURRENCY, (task) => task.shutdown());
    await Promise.allSettled([...this.#removing.values()]);
    this.#logger.debug("storage closed", { dir: this.dir });
  }

  #onIdle(task: Task): void {
    if (this.#deferred.get(task.id)?.task === task) this.#finishDeferred(task);
  }

  #finishDeferred(task: Task): void {
    const entry = this.#deferred.get(task.id);
    if (!entry) return;
    this.#deferred.delete(task.id);
    task.markDeleted(true);
    this.#remove(task)
      .catch((error: unknown) => this.#logger.warn("could not remove a deleted task's files", { taskId: task.id, error: String(error) }))
      .finally(entry.done);
  }

  /** Record first: once it is gone the task no longer exists, whatever a crash leaves. */
  async #remove(task: Task): Promise<void> {
    const removal = (async () => {
      await task.closeFiles();
      const { metadata, pieceLog, content } = task.paths;
      await removeFile(metadata);
      await Promise.all([removeFile(pieceLog), removeFile(content)]);
    })();
    const settled = removal.catch(() => {});
    this.#removing.set(task.id, settled);
    try {
      await removal;
    } finally {
      if (this.#removing.get(task.id) === settled) this.#removing.delete(task.id);
    }
  }

  #require(taskId: string): Task {
    const task = this.#tasks.get(taskId);
    if (!task) throw new DfError("NOT_FOUND", `task ${taskId} is not in the store`, { details: { taskId } });
    return task;
  }

  #assertOpen(): void {
    if (this.#closing) throw new DfError("FAILED_PRECONDITION", `the storage at ${this.dir} is closed`, { reason: "storage-closed" });
  }
}

/** unlink, where a file already gone is fine: one system call, where rm() takes two. */
async function removeFile(file: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

/**
 * Sized with ftruncate: a sparse file, so blocks are taken as pieces land. Node has no
 * fallocate; the free-space check stands in for the reservation.
 */
async function createContent(file: string, contentLength: number): Promise<void> {
  const handle = await open(file, "w");
  try {
    await handle.truncate(contentLength);
  } finally {
    await handle.close();
  }
}

function descriptorOf(options: CreateTaskOptions): TaskDescriptor {
  assertTaskId(options.taskId);
  const { contentLength } = options;
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new DfError("INVALID_ARGUMENT", `contentLength must be a non-negative integer, got ${String(contentLength)}`, {
      details: { taskId: options.taskId },
    });
  }
  const pieceLength = options.pieceLength ?? pieceLengthFor(contentLength);
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0 || pieceLength > MAX_PIECE_LENGTH_STORED) {
    throw new DfError("INVALID_ARGUMENT", `pieceLength must be an integer from 1 to ${MAX_PIECE_LENGTH_STORED}, got ${String(pieceLength)}`, {
      details: { taskId: options.taskId },
    });
  }
  const descriptor: TaskDescriptor = {
    taskId: options.taskId,
    contentLength,
    pieceLength,
    responseHeader: { ...options.responseHeader },
  };
  for (const key of ["type", "url", "tag", "application", "baseTaskId", "version"] as const) {
    const value = options[key];
    if (value !== undefined) descriptor[key] = value;
  }
  if (options.filteredQueryParams) descriptor.filteredQueryParams = [...options.filteredQueryParams];
  if (options.validators) descriptor.validators = { ...options.validators };
  return descriptor;
}

function matching(task: Task, options: CreateTaskOptions): Task {
  const conflicts: string[] = [];
  if (task.contentLength !== options.contentLength) conflicts.push(`content length ${task.contentLength} ≠ ${options.contentLength}`);
  if (options.pieceLength !== undefined && task.pieceLength !== options.pieceLength) {
    conflicts.push(`piece length ${task.pieceLength} ≠ ${options.pieceLength}`);
  }
  const type = task.info.type;
  if (options.type !== undefined && type !== options.type) conflicts.push(`type ${String(type)} ≠ ${options.type}`);
  if (conflicts.length > 0) {
    throw new DfError("FAILED_PRECONDITION", `task ${task.id} already exists with other parameters: ${conflicts.join(", ")}`, {
      reason: "task-conflict",
      details: { taskId: task.id, conflicts },
    });
  }
  return task;
}

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}

/** `formatBytes` without the exact count, for figures in parentheses. */
function shortBytes(bytes: number): string {
  return formatBytes(bytes).replace(/ \(\d+ bytes\)$/, "");
}
