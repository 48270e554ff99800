import { inject, injectable } from "tsyringe";
import { DfError, errorMessage, hasErrorCode, mapBounded, Tokens, type Logger } from "@df/interface";
import { loadMemberTls } from "@df/rpc";
import type { ManagerConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { JobStore, type Job, type JobRunner } from "../jobs.js";
import { preheatArgs, type PreheatArgs } from "../rest/schemas.js";
import { ManagerTokens } from "../tokens.js";
import { SchedulerCalls, type PreheatCall } from "./scheduler-calls.js";
import { summarise, type UrlOutcome } from "./outcome.js";

export type { PreheatArgs } from "../rest/schemas.js";

interface ActiveScheduler {
  id: number;
  address: string;
}

/**
 * Runs preheat jobs (reference §8.5): for each URL and each of the job's scheduler
 * clusters (all clusters when the job names none), an active scheduler of the cluster
 * has its seed peers fetch the URL (scheduler RPC PreheatTask); the next active one is
 * tried when a scheduler cannot be reached. The job is RUNNING with its results so far
 * while URLs finish, then SUCCESS when every URL reached every seed peer asked for, or
 * FAILURE with the reason per URL.
 *
 * A job is claimed (PENDING → RUNNING in one conditional update) before it runs, so two
 * managers on one database never run it twice. Every progress write renews the claim; a
 * RUNNING job left unwritten for longer than one URL may take (its manager died) can be
 * claimed again. A manager that stops hands its jobs back as PENDING, and a starting
 * manager picks up what is PENDING or stale.
 */
@injectable()
export class PreheatJobRunner implements JobRunner {
  readonly name = "preheat";
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  readonly #calls: SchedulerCalls;

  constructor(
    @inject(ManagerTokens.Database) private readonly database: Database,
    @inject(JobStore) private readonly jobs: JobStore,
    @inject(ManagerTokens.Config) private readonly config: ManagerConfig,
    @inject(Tokens.Logger) private readonly logger: Logger,
  ) {
    this.#calls = new SchedulerCalls(loadMemberTls(config.security.tls)?.client);
  }

  /**
   * A RUNNING job not written for this long lost its manager: longer than one URL's
   * preheat may take (progress is written as each URL ends), plus a margin.
   */
  get leaseMs(): number {
    return this.config.jobs.preheat.timeout + 60_000;
  }

  /**
   * Runs the preheat jobs a stopped or dead manager left PENDING or RUNNING, after
   * `delayMs`: schedulers re-register with a new manager within a keepalive interval or
   * two, and a job resumed before that would fail for want of an active scheduler.
   */
  resumeAfter(delayMs: number): void {
    const resume = (async () => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.#stop.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (this.#stop.signal.aborted) return;
      const ids = await this.jobs.claimableIds("preheat", this.leaseMs);
      for (const id of ids) {
        const job = await this.jobs.get(id);
        if (job) this.#start(job, this.leaseMs);
      }
      if (ids.length > 0) this.logger.info("preheat jobs left by an earlier manager resumed", { ids });
    })().catch((error: unknown) => this.logger.warn("could not resume earlier preheat jobs", { error: String(error) }));
    this.#running.add(resume);
    void resume.finally(() => this.#running.delete(resume));
  }

  submit(job: Job): void {
    if (job.type !== "preheat") {
      this.logger.info("job stored; no runner for its type", { id: job.id, type: job.type });
      return;
    }
    this.#start(job);
  }

  async close(): Promise<void> {
    this.#stop.abort(new DfError("CANCELLED", "the manager is stopping"));
    await Promise.allSettled([...this.#running]);
    this.#calls.close();
  }

  #start(job: Job, staleAfterMs?: number): void {
    const run = this.#claimAndRun(job, staleAfterMs);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  async #claimAndRun(job: Job, staleAfterMs?: number): Promise<void> {
    try {
      if (this.#stop.signal.aborted || !(await this.jobs.claim(job.id, staleAfterMs))) return;
    } catch (error) {
      // Still PENDING (or stale): the next manager start picks it up.
      this.logger.warn("could not claim a preheat job", { id: job.id, error: String(error) });
      return;
    }
    try {
      await this.#run(job);
    } catch (error) {
      this.logger.error("preheat job failed unexpectedly", { id: job.id, error: String(error) });
      await this.jobs.update(job.id, "FAILURE", { error: `the preheat stopped unexpectedly: ${errorMessage(error)}` }).catch(() => {
        // The database is gone too; the lease lets a later start take the job again.
      });
    }
  }

  async #run(job: Job): Promise<void> {
    const parsed = preheatArgs.safeParse(job.args);
    if (!parsed.success) {
      await this.jobs.update(job.id, "FAILURE", { error: `invalid preheat arguments: ${parsed.error.issues[0]?.message ?? "unknown"}` });
      return;
    }
    const args = parsed.data;
    if (args.ips?.length || args.percentage || args.count) {
      // Picking peers by IP, percentage or count needs a peer list per scheduler; refuse
      // rather than silently preheat more (or fewer) hosts than asked.
      await this.jobs.update(job.id, "FAILURE", { error: "preheat by ips, percentage or count is not supported; use scope single_seed_peer, all_seed_peers or all_peers" });
      return;
    }
    const clusters = await this.#clusters(job);
    this.logger.info("preheat started", { id: job.id, urls: args.urls.length, clusters: clusters.map((c) => c.id) });
    const outcomes: UrlOutcome[] = [];
    const pairs = args.urls.flatMap((url) => clusters.map((cluster) => ({ url, cluster })));
    await mapBounded(pairs, this.config.jobs.preheat.concurrency, async ({ url, cluster }) => {
      if (this.#stop.signal.aborted) return;
      const outcome = await this.#preheatOne(url, cluster.id, cluster.schedulers, args);
      // A URL cut short by this manager's stop is run again by the next one.
      if (this.#stop.signal.aborted && !outcome.success) return;
      outcomes.push(outcome);
      // Progress, and the renewal of this manager's claim; a failed write only delays both.
      await this.jobs.update(job.id, "RUNNING", summarise(outcomes, pairs.length)).catch((error: unknown) => {
        this.logger.warn("could not record preheat progress", { id: job.id, error: String(error) });
      });
    });
    if (this.#stop.signal.aborted) {
      await this.jobs.release(job.id, summarise(outcomes, pairs.length));
      this.logger.info("preheat job handed back for the next manager start", { id: job.id, done: outcomes.length, total: pairs.length });
      return;
    }
    const summary = summarise(outcomes, pairs.length);
    await this.jobs.update(job.id, summary.failed === 0 && pairs.length > 0 ? "SUCCESS" : "FAILURE", summary);
    this.logger.info("preheat finished", { id: job.id, succeeded: summary.succeeded, failed: summary.failed });
  }

  async #preheatOne(url: string, clusterId: number, schedulers: ActiveScheduler[], args: PreheatArgs): Promise<UrlOutcome> {
    const base = { url, clusterId };
    if (schedulers.length === 0) {
      return { ...base, success: false, description: `scheduler cluster ${clusterId} has no active scheduler with the preheat feature`, seedPeers: [] };
    }
    const call: PreheatCall = {
      url,
      args,
      timeoutMs: args.timeoutMs ?? this.config.jobs.preheat.timeout,
      signal: this.#stop.signal,
    };
    let lastError: unknown;
    for (const scheduler of schedulers) {
      try {
        const response = await this.#calls.preheat(scheduler.address, call);
        const failed = response.seedPeers.filter((s) => !s.success);
        return {
          ...base,
          scheduler: scheduler.address,
          taskId: response.taskId,
          contentLength: response.contentLength,
          success: failed.length === 0 && response.seedPeers.length > 0,
          description: failed.map((s) => `${s.hostname || s.hostId}: ${s.description}`).join("; "),
          seedPeers: response.seedPeers.map((s) => ({ hostId: s.hostId, hostname: s.hostname, ip: s.ip, success: s.success, description: s.description, costMs: s.costMs })),
        };
      } catch (error) {
        lastError = error;
        // Another scheduler of the cluster can do it if this one is unreachable; any
        // other failure (bad URL, no seed peer, deadline) would repeat there.
        if (!hasErrorCode(error, "UNAVAILABLE") || this.#stop.signal.aborted) break;
        this.logger.warn("scheduler unreachable for preheat; trying the next", { scheduler: scheduler.address, error: String(error) });
      }
    }
    return { ...base, success: false, description: errorMessage(lastError), seedPeers: [] };
  }

  async #clusters(job: Job): Promise<{ id: number; schedulers: ActiveScheduler[] }[]> {
    return this.database.run(async (db) => {
      const ids =
        job.schedulerClusterIds.length > 0
          ? job.schedulerClusterIds
          : (await db.selectFrom("scheduler_clusters").select("id").orderBy("id").execute()).map((r) => r.id);
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom("schedulers")
        .select(["id", "ip", "port", "scheduler_cluster_id", "features"])
        .where("scheduler_cluster_id", "in", ids)
        .where("state", "=", "active")
        .orderBy("last_keepalive_at", "desc")
        .execute();
      return ids.map((id) => ({
        id,
        // A scheduler takes part in preheat only when it registered the feature.
        schedulers: rows
          .filter((r) => r.scheduler_cluster_id === id && r.features.includes("preheat"))
          .map((r) => ({ id: r.id, address: r.ip.includes(":") ? `[${r.ip}]:${r.port}` : `${r.ip}:${r.port}` })),
      }));
    });
  }
}
