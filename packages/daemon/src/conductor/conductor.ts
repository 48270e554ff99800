import { inject, injectable } from "tsyringe";
import { DfError, Tokens, hasErrorCode, type Clock, type Logger, type SourceRegistry } from "@df/interface";
import { piecesInRange, type ByteRange } from "@df/piece";
import { type common, scheduler, unary } from "@df/rpc";
import type { Storage, Task as StoredTask } from "@df/storage";
import type { DownloadBandwidth } from "../bandwidth.js";
import type { DaemonConfig } from "../config.js";
import { DaemonTokens } from "../tokens.js";
import type { PieceDownloader } from "../transfer/types.js";
import { PeerClientPool } from "../transfer/peer-client-pool.js";
import { TaskFailures } from "../upload/task-failures.js";
import { HostAnnouncer } from "../scheduler-link/announcer.js";
import { DaemonHost } from "../host.js";
import { DaemonMetrics } from "./metrics.js";
import { TaskRun, type RunContext, type TaskLayout } from "./run.js";
import { SchedulerClients } from "../scheduler-link/scheduler-clients.js";
import { Subscription } from "./subscription.js";
import { identify, identityDownload, type TaskIdentity } from "../task/identity.js";
import { Revalidator, withVersion } from "../task/revalidation.js";
import { decodeVersion, encodeVersion, validatorsOf } from "../task/version.js";
import { taskMatchesDigest } from "../task/digest-check.js";

export interface DownloadOptions {
  /** The client went away: its view ends, the download goes on for others. */
  signal?: AbortSignal;
  /**
   * The task's length and piece length, when the caller already knows them (dfcache
   * export has the scheduler's record): a new download then creates the stored task
   * while it registers, and need not ask a parent for them.
   */
  layout?: TaskLayout;
}

/**
 * The daemon's task conductor: at most one running download per task ID, shared by
 * every client that asks for it (two dfget runs of one URL make one download and two
 * outputs). A task complete in the store is served at once; the scheduler is told this
 * host holds it.
 */
@injectable()
export class TaskConductor {
  readonly #runs = new Map<string, TaskRun>();
  /** Task ID → the peer ID under which the scheduler knows this host holds the task. */
  readonly #holders = new Map<string, string>();
  readonly #context: RunContext;
  readonly #logger: Logger;
  readonly #revalidator: Revalidator;
  #stopping = false;

  constructor(
    @inject(DaemonTokens.Storage) private readonly storage: Storage,
    @inject(Tokens.SourceRegistry) sources: SourceRegistry,
    @inject(DaemonTokens.PieceDownloader) downloader: PieceDownloader,
    @inject(SchedulerClients) private readonly schedulers: SchedulerClients,
    @inject(PeerClientPool) pool: PeerClientPool,
    @inject(DaemonHost) private readonly host: DaemonHost,
    @inject(DaemonTokens.Config) config: DaemonConfig,
    @inject(Tokens.Logger) logger: Logger,
    @inject(DaemonMetrics) private readonly metrics: DaemonMetrics,
    @inject(HostAnnouncer) private readonly announcer: HostAnnouncer,
    @inject(TaskFailures) failures: TaskFailures,
    @inject(DaemonTokens.Bandwidth) bandwidth: DownloadBandwidth,
    @inject(Tokens.Clock) clock: Clock,
  ) {
    this.#logger = logger.child("conductor");
    this.#revalidator = new Revalidator(storage, sources, config.download, this.#logger, () => clock.now());
    this.#context = {
      storage,
      sources,
      downloader,
      schedulers,
      pool,
      host,
      config,
      logger: this.#logger,
      metrics,
      bandwidth,
      announceHost: (address) => announcer.announceTo(address),
      announceHolder: (identity, task, download) => this.#announceHolder(identity, task, download),
      finishedAsPeer: (taskId, peerId) => this.#holders.set(taskId, peerId),
      // Children syncing pieces from this host learn at once that no more will come.
      failed: (taskId, error) => failures.fail(taskId, error),
    };
    // A task the store removed by itself is no longer held here: the scheduler must
    // stop handing this host out for it (and asking it for it), at once rather than
    // when its pieces are asked for and missing.
    // A task whose file changed is fetched again at once by the download that found it,
    // which the scheduler hears of; telling it to forget this host's peers of the task
    // could then drop that download's peer too.
    storage.onEvicted(({ taskId, reason }) => {
      if (this.#stopping) return;
      this.#holders.delete(taskId);
      if (reason !== "content-changed") void this.#leaveTask(taskId);
    });
  }

  /** Downloads in progress. */
  get running(): number {
    return this.#runs.size;
  }

  /**
   * The peer ID this host goes by for a task: its running download's, else the one
   * the scheduler knows as holder. Children see it as the parent ID of pieces from here.
   */
  peerIdOf(taskId: string): string | undefined {
    return this.#runs.get(taskId)?.peerId ?? this.#holders.get(taskId);
  }

  /**
   * Records that the scheduler knows this host holds `taskId` as `peerId` (dfcache
   * import announced it), so pieces served from here carry that parent ID.
   */
  holdAs(taskId: string, peerId: string): void {
    this.#holders.set(taskId, peerId);
  }

  /** Announces this host to one scheduler again (it forgot the host, e.g. after a restart). */
  announceHostTo(address: string): Promise<void> {
    return this.announcer.announceTo(address);
  }

  /** The running download of a task, if any. */
  runOf(taskId: string): TaskRun | undefined {
    return this.#runs.get(taskId);
  }

  /**
   * Starts (or joins) the download of `download` and returns this client's view of it.
   * First the origin is asked whether the content changed (see Revalidator), unless the
   * download names its version; a held copy of another version is superseded. Argument
   * errors (bad URL, bad piece length) are thrown before anything is asked or run.
   */
  async download(download: common.Download, options: DownloadOptions = {}): Promise<Subscription> {
    if (this.#stopping) throw new DfError("UNAVAILABLE", "the daemon is stopping", { reason: "daemon-stopping" });
    identify(download);
    const signal = options.signal ? { signal: options.signal } : {};
    let revalidated = await this.#revalidator.resolve(download, signal);
    if (download.digest && !download.range) revalidated = await this.#unlessDigestFails(download, revalidated, signal);
    this.#supersede(revalidated.superseded);
    return this.#start(revalidated.download, options);
  }

  /**
   * A held copy that fails the client's digest is not served (nor is the download
   * failed): the origin is asked again, and a new version fetched. When the origin
   * still names the same version, the copy and the origin disagree (content replaced
   * under the same validators, or a damaged copy): the digest then becomes part of the
   * version, a task no peer holds yet, fetched afresh from the origin through the seed.
   */
  async #unlessDigestFails(
    download: common.Download,
    revalidated: Awaited<ReturnType<Revalidator["resolve"]>>,
    signal: { signal?: AbortSignal },
  ): Promise<Awaited<ReturnType<Revalidator["resolve"]>>> {
    const digest = download.digest!;
    const identity = identify(revalidated.download);
    const held = this.storage.getTask(identity.taskId);
    if (!held?.complete || this.#runs.has(identity.taskId) || (await taskMatchesDigest(held, digest))) return revalidated;
    this.#logger.warn("the copy held here does not match the digest asked for; fetching again", { taskId: identity.taskId, digest });
    const again = revalidated.asked ? revalidated : await this.#revalidator.resolve(download, { ...signal, force: true });
    if (identify(again.download).taskId !== identity.taskId) return again;
    const origin = again.download.version ? validatorsOf(decodeVersion(again.download.version)) : {};
    const version = encodeVersion({ ...origin, digest });
    return { download: withVersion(download, version), asked: true, superseded: [...again.superseded, held] };
  }

  /** Other versions of a URL than the origin's current one are removed here (not while running). */
  #supersede(tasks: readonly StoredTask[]): void {
    for (const task of tasks) {
      if (this.#runs.has(task.id)) continue;
      this.#logger.info("superseded by a new version at the origin", { taskId: task.id });
      void this.deleteTask(task.id, { remote: true }).catch((error: unknown) => {
        if (!hasErrorCode(error, "NOT_FOUND")) this.#logger.warn("could not remove a superseded task", { taskId: task.id, error: String(error) });
      });
    }
  }

  /**
   * Removes every task of a URL held here (`dfcache delete --url`): all its versions,
   * and the copies fetched with credentials or a fixed piece length too, of the given
   * tag and application. With `remote`, the scheduler also forgets this host holds them.
   * NOT_FOUND when there is none.
   */
  async evictUrl(naming: { url: string; tag?: string | undefined; application?: string | undefined }, options: { remote?: boolean } = {}): Promise<string[]> {
    const ids: string[] = [];
    for (const task of this.storage.listTasks()) {
      const info = task.info;
      if (info.type === "STANDARD" && info.url === naming.url && (info.tag ?? "") === (naming.tag ?? "") && (info.application ?? "") === (naming.application ?? "")) {
        ids.push(task.id);
        this.#revalidator.forget(task.baseTaskId);
      }
    }
    if (ids.length === 0) {
      throw new DfError("NOT_FOUND", `no task of ${naming.url} is on this host`, { reason: "task-not-found", details: { url: naming.url } });
    }
    for (const id of ids) {
      await this.deleteTask(id, options).catch((error: unknown) => {
        if (!hasErrorCode(error, "NOT_FOUND")) throw error;
      });
    }
    return ids;
  }

  /**
   * The task a URL names now, for StatTask: the newest version held here, else (unless
   * `localOnly`) the version the origin names (asked as a download would ask it), so
   * the scheduler can be asked about the task peers hold.
   */
  async currentTaskId(naming: common.Download, options: { localOnly?: boolean; signal?: AbortSignal } = {}): Promise<string> {
    const base = identify(naming);
    const held = this.#revalidator.held(naming)[0];
    if (held) return held.id;
    if (options.localOnly) return base.taskId;
    const { download } = await this.#revalidator.resolve(naming, options.signal ? { signal: options.signal } : {});
    return identify(download).taskId;
  }

  #start(download: common.Download, options: DownloadOptions): Subscription {
    const identity = identify(download);
    const range = download.range ? { start: download.range.start, length: download.range.length } : undefined;
    const subscriptionOptions = {
      ...(range ? { range } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(download.timeoutMs ? { timeoutMs: download.timeoutMs } : {}),
    };

    const running = this.#runs.get(identity.taskId);
    if (running) {
      const subscription = new Subscription(identity.taskId, running.peerId, subscriptionOptions);
      if (running.attach(subscription)) return subscription;
    }
    const stored = this.storage.getTask(identity.taskId);
    // A complete task whose file changed since it completed (an edited hard-linked
    // output, a write into the store) is read back and checked before anything of it
    // is handed out; that takes a while, so it runs as a download that waits for the
    // check: a task that still matches is then served as stored, a damaged one is gone
    // and fetched again.
    const checking = stored?.complete && !stored.contentUnchanged() ? this.storage.checkLocalContent(identity.taskId) : undefined;
    if (stored && !checking && servesLocally(stored, range)) {
      if (stored.complete) this.#announceHolder(identity, stored, download);
      const peerId = this.#holders.get(identity.taskId) ?? this.host.newPeerId();
      const subscription = new Subscription(identity.taskId, peerId, subscriptionOptions);
      this.metrics.download("local");
      subscription.metadata(stored);
      return subscription;
    }
    const run = new TaskRun(this.#context, identity, download, () => {
      if (this.#runs.get(identity.taskId) === run) this.#runs.delete(identity.taskId);
    }, options.layout);
    const subscription = new Subscription(identity.taskId, run.peerId, subscriptionOptions);
    run.attach(subscription);
    this.#runs.set(identity.taskId, run);
    if (checking) {
      void checking
        .catch((error: unknown) => this.#logger.warn("could not check a stored task's content", { taskId: identity.taskId, error: String(error) }))
        .then(() => run.start());
    } else void run.start();
    return subscription;
  }

  /** Removes a task from this host; with `remote`, the scheduler also forgets this host holds it. */
  async deleteTask(taskId: string, options: { remote?: boolean } = {}): Promise<void> {
    const run = this.#runs.get(taskId);
    run?.abort(new DfError("ABORTED", `task ${taskId} was deleted while downloading`, { reason: "task-deleted" }));
    await run?.start().catch(() => {});
    const stored = this.storage.getTask(taskId);
    this.#holders.delete(taskId);
    // The scheduler is told while the files go (it never rejects): one wait, not two.
    const leaving = options.remote ? this.#leaveTask(taskId) : undefined;
    if (!stored) {
      await leaving;
      if (options.remote) return;
      throw new DfError("NOT_FOUND", `task ${taskId} is not on this host`, { reason: "task-not-found", details: { taskId } });
    }
    const removing = this.storage.deleteTask(taskId, { defer: true }).catch((error: unknown) => {
      if (!hasErrorCode(error, "NOT_FOUND")) throw error;
    });
    await Promise.all([removing, leaving]);
    this.#logger.info("task deleted", { taskId, remote: options.remote ?? false });
  }

  /** Ends every download (clients get UNAVAILABLE) and waits for them to wind down. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const runs = [...this.#runs.values()];
    const reason = new DfError("UNAVAILABLE", "the daemon is stopping", { reason: "daemon-stopping" });
    for (const run of runs) run.abort(reason);
    await Promise.allSettled(runs.map((run) => run.start()));
  }

  async #leaveTask(taskId: string): Promise<void> {
    for (const address of this.schedulers.forTask(taskId)) {
      try {
        await unary(this.schedulers.client(address), "deleteTask", scheduler.DeleteTaskRequest.create({ hostId: this.host.id, taskId }));
        return;
      } catch (error) {
        this.#logger.warn("could not tell a scheduler the task was deleted", { taskId, address, error: String(error) });
        if (!hasErrorCode(error, "UNAVAILABLE")) return;
      }
    }
  }

  /**
   * Tells the scheduler (AnnounceTask) that this host holds a complete task it did not
   * see it download, once per task per daemon life, in the background.
   */
  #announceHolder(identity: TaskIdentity, task: StoredTask, download: common.Download): void {
    if (this.#holders.has(identity.taskId) || this.schedulers.addresses.length === 0) return;
    const peerId = this.host.newPeerId();
    this.#holders.set(identity.taskId, peerId);
    const request = scheduler.AnnounceTaskRequest.create({
      hostId: this.host.id,
      taskId: identity.taskId,
      peerId,
      download: identityDownload(identity, { requestHeader: { ...download.requestHeader } }),
      contentLength: task.contentLength,
      pieceLength: task.pieceLength,
      pieceCount: task.pieceCount,
    });
    void (async () => {
      addresses: for (const address of this.schedulers.forTask(identity.taskId)) {
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            await unary(this.schedulers.client(address), "announceTask", request);
            this.#logger.debug("announced a stored task", { taskId: identity.taskId, address });
            return;
          } catch (error) {
            if (attempt === 0 && hasErrorCode(error, "NOT_FOUND", "host-not-found")) {
              await this.announcer.announceTo(address).catch(() => {});
              continue;
            }
            this.#logger.debug("could not announce a stored task", { taskId: identity.taskId, address, error: String(error) });
            // Only an unreachable scheduler is worth falling over from.
            if (hasErrorCode(error, "UNAVAILABLE")) continue addresses;
            break addresses;
          }
        }
      }
      // Nobody heard it: try again at the next local hit.
      if (this.#holders.get(identity.taskId) === peerId) this.#holders.delete(identity.taskId);
    })();
  }
}

/** Whether a stored task already has what a client wants, so no download is needed. */
function servesLocally(task: StoredTask, range: ByteRange | undefined): boolean {
  if (task.complete) return true;
  if (!range) return false;
  try {
    return piecesInRange(range, task.contentLength, task.pieceLength).every((piece) => task.hasPiece(piece.number));
  } catch {
    // A range past the end: serve it "locally" so the client gets its OUT_OF_RANGE at once.
    return true;
  }
}
