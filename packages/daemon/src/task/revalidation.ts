import { DfError, toDfError, type Logger, type SourceClient, type SourceRegistry, type SourceValidators } from "@df/interface";
import { common } from "@df/rpc";
import type { Storage, Task as StoredTask } from "@df/storage";
import { identify, taskTypeOf } from "./identity.js";
import { decodeVersion, encodeVersion, sameContent, validatorsOf, validatorsOfStat } from "./version.js";

export interface RevalidationConfig {
  /** `always`: ask the origin before every download; `never`: only when nothing is held here. */
  revalidate: "always" | "never";
  /** ms after an answer during which downloads of the URL use it without asking again. */
  freshFor: number;
  /**
   * Longest the origin may take to answer (download.revalidateTimeout): an origin that
   * is down or blackholed must not hold every download up for the source's connect and
   * header timeouts (10 s and 30 s) when a copy here or the swarm can serve it.
   */
  revalidateTimeout: number;
}

export interface Revalidated {
  /** The download, with `version` naming the content to get ("": unversioned, the upstream task ID). */
  download: common.Download;
  /** The origin was asked in this call (so its answer is current, not remembered). */
  asked: boolean;
  /** Tasks of the same URL held here that the answer showed to be another version. */
  superseded: StoredTask[];
}

interface Answer {
  validators: SourceValidators;
  at: number;
}

/** URLs whose last answer is remembered for download.freshFor; the oldest is forgotten first. */
const REMEMBERED = 4096;

/**
 * Decides which version of a URL's content a download gets, before it uses a copy held
 * here or joins the swarm: one conditional request to the origin (its client's
 * `validators`, else `stat`) with the validators of the newest copy held here. The
 * answer becomes `Download.version`, part of the task ID, so changed content is a new
 * task that no peer holding the old one can serve, and the old copy here is superseded.
 *
 * A download that already names its version (a seed peer triggered by the scheduler,
 * which must fetch what the peer asked for) is taken as it is; so is content with no
 * origin (dfcache data, content-named tasks).
 */
export class Revalidator {
  readonly #answers = new Map<string, Answer>();

  constructor(
    private readonly storage: Storage,
    private readonly sources: SourceRegistry,
    private readonly config: RevalidationConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The download with its version. `force` asks the origin whatever download.revalidate
   * and download.freshFor say (a held copy failed the user's digest).
   */
  async resolve(download: common.Download, options: { signal?: AbortSignal; force?: boolean } = {}): Promise<Revalidated> {
    const unchanged = { download, asked: false, superseded: [] };
    if (download.version !== undefined || !hasOrigin(download)) return unchanged;
    const client = this.#client(download.url);
    if (!client) return unchanged;
    const base = identify(download);
    const held = this.#held(base.baseTaskId);
    const newest = held[0];
    const remembered = this.#answers.get(base.baseTaskId);
    if (!options.force) {
      if (this.config.revalidate === "never" && newest?.complete) return { ...unchanged, download: withVersion(download, newest.version) };
      if (remembered && this.now() - remembered.at < this.config.freshFor) {
        return { ...unchanged, download: withVersion(download, this.#versionFor(remembered.validators, newest)) };
      }
    }
    const known = newest?.validators ?? remembered?.validators;
    let current: SourceValidators;
    try {
      current = await ask(client, download, known, options.signal, this.config.revalidateTimeout);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const failure = toDfError(error);
      if (newest?.complete) {
        // As a cache would on stale-if-error: the origin cannot say the copy is stale.
        this.logger.warn("the origin could not be asked whether the content changed; using the copy held here", {
          taskId: newest.id,
          error: failure.message,
        });
        return { ...unchanged, download: withVersion(download, newest.version) };
      }
      if (definitive(failure)) {
        throw new DfError(failure.code, `could not ask the origin of ${download.url} for its current version: ${failure.message}`, {
          reason: "revalidation-failed",
          cause: error,
        });
      }
      // This host may not reach the origin (its destinations policy, its network) while
      // the seed peers can: the download goes on unversioned, as upstream names tasks,
      // and the seed fetches what the origin serves then.
      this.logger.warn("the origin could not be asked for its current version; downloading under the unversioned task ID", {
        url: download.url,
        error: failure.message,
      });
      return { ...unchanged, download: withVersion(download, undefined) };
    }
    this.#remember(base.baseTaskId, current);
    const version = this.#versionFor(current, newest);
    const taskId = identify({ ...download, version }).taskId;
    const superseded = held.filter((task) => task.id !== taskId);
    this.logger.debug("revalidated", {
      url: download.url,
      taskId,
      changed: newest !== undefined && newest.id !== taskId,
      superseded: superseded.map((task) => task.id),
    });
    return { download: withVersion(download, version), asked: true, superseded };
  }

  /** Forgets what the origin said of a URL (its tasks were evicted). */
  forget(baseTaskId: string): void {
    this.#answers.delete(baseTaskId);
  }

  /** The stored tasks of a URL's versions, the newest complete one first. */
  held(download: common.Download): StoredTask[] {
    return this.#held(identify(download).baseTaskId);
  }

  /**
   * The version string for validators: the held copy's own when it is still the
   * origin's content (it may carry a digest, or validators a 304 does not repeat).
   */
  #versionFor(current: SourceValidators, newest: StoredTask | undefined): string | undefined {
    if (newest?.version !== undefined && sameContent(validatorsOf(decodeVersion(newest.version)), current)) return newest.version;
    return encodeVersion(current);
  }

  #held(baseTaskId: string): StoredTask[] {
    return this.storage
      .listTasks()
      .filter((task) => task.baseTaskId === baseTaskId)
      .sort((a, b) => Number(b.complete) - Number(a.complete) || (b.finishedAt ?? b.accessedAt) - (a.finishedAt ?? a.accessedAt));
  }

  #remember(baseTaskId: string, validators: SourceValidators): void {
    this.#answers.delete(baseTaskId);
    if (this.#answers.size >= REMEMBERED) this.#answers.delete(this.#answers.keys().next().value as string);
    this.#answers.set(baseTaskId, { validators, at: this.now() });
  }

  #client(url: string): SourceClient | undefined {
    try {
      return this.sources.forUrl(url);
    } catch {
      // No source serves the scheme: the download fails where it always did, with its message.
      return undefined;
    }
  }
}

/** Content named by a URL with an origin; dfcache data and content-named tasks have none. */
function hasOrigin(download: common.Download): boolean {
  return taskTypeOf(download.type) === "STANDARD" && !download.contentForCalculatingTaskId && !download.url.startsWith("d7y:");
}

async function ask(
  client: SourceClient,
  download: common.Download,
  known: SourceValidators | undefined,
  signal: AbortSignal | undefined,
  limitMs: number,
): Promise<SourceValidators> {
  const timeoutMs = download.timeoutMs ? Math.min(download.timeoutMs, limitMs) : limitMs;
  const request = { url: download.url, header: { ...download.requestHeader }, timeoutMs };
  const options = signal ? { signal } : {};
  if (client.validators) return client.validators({ ...request, ...(known ? { known } : {}) }, options);
  // A source without the optional call: its stat says the same in more requests.
  return validatorsOfStat(await client.stat(request, options));
}

/**
 * The download naming `version`. No version is sent as "" rather than left out: a seed
 * peer the scheduler triggers with it then knows the peer decided (the origin has no
 * validators, or could not be asked) and fetches under the same, unversioned ID,
 * instead of asking the origin itself and naming another task.
 */
export function withVersion(download: common.Download, version: string | undefined): common.Download {
  return common.Download.create({ ...download, version: version ?? "" });
}

/** Origin answers that settle the download: asking again, or a seed asking, would hear the same. */
function definitive(error: DfError): boolean {
  if (error.code === "PERMISSION_DENIED") return error.reason !== "destination-refused";
  return error.code === "NOT_FOUND" || error.code === "INVALID_ARGUMENT" || error.code === "OUT_OF_RANGE";
}
