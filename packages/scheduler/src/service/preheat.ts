import { DfError, errorMessage, mapBounded, noopLogger, type AbortOptions, type Logger } from "@df/interface";
import { taskId as computeTaskId, pieceLengthFor, privateScope } from "@df/piece";
import type { Host } from "../resource/host.js";
import type { Resources } from "../resource/resources.js";
import type { DownloadRequest, SeedPeerFetcher } from "./types.js";

/** `single`: the seed the task hashes to; `seeds`: every live seed; `all`: every host. */
export type PreheatScope = "single" | "seeds" | "all";

/** Hosts fetching from the first seed at once, for the wider scopes. */
export const PREHEAT_FAN_OUT = 16;

export interface SeedPeerPreheat {
  hostId: string;
  hostname: string;
  ip: string;
  success: boolean;
  description: string;
  costMs: number;
}

export interface PreheatResult {
  taskId: string;
  contentLength: number;
  seedPeers: SeedPeerPreheat[];
}

/** The task ID a dfget of the same download gets, so the preheated task is the one peers ask for. */
export function preheatTaskId(download: DownloadRequest): string {
  let url: URL;
  try {
    url = new URL(download.url);
  } catch (error) {
    throw new DfError("INVALID_ARGUMENT", `"${download.url}" is not an absolute URL; give one such as https://example.com/file`, {
      cause: error,
      reason: "invalid-url",
    });
  }
  // Cache data (d7y:) has no origin to preheat from.
  if (url.protocol === "d7y:") {
    throw new DfError("INVALID_ARGUMENT", `"${download.url}" names dfcache data, which has no origin to preheat from`, { reason: "invalid-url" });
  }
  if (download.pieceLength) pieceLengthFor(0, download.pieceLength);
  const scope = privateScope({ headers: download.header, digest: download.digest });
  return computeTaskId({
    url: download.url,
    type: download.type,
    ...(download.tag ? { tag: download.tag } : {}),
    ...(download.application ? { application: download.application } : {}),
    ...(download.pieceLength ? { pieceLength: download.pieceLength } : {}),
    ...(download.filteredQueryParams.length > 0 ? { filteredQueryParams: download.filteredQueryParams } : {}),
    ...(scope ? { scope } : {}),
  });
}

/**
 * Preheat (reference §8.5): seed peers fetch a URL before anyone asks for it. The seed
 * the task ID hashes to — the one the scheduler would trigger for the first peer — goes
 * to the origin; with a wider scope, the other seeds (or all hosts) then fetch it peer to
 * peer, so the origin still serves the bytes about once.
 */
export class Preheater {
  constructor(
    private readonly resources: Resources,
    private readonly fetcher: SeedPeerFetcher,
    private readonly logger: Logger = noopLogger,
  ) {}

  async preheat(request: DownloadRequest, scope: PreheatScope, options: AbortOptions = {}): Promise<PreheatResult> {
    if (request.type !== "STANDARD") {
      throw new DfError("INVALID_ARGUMENT", "only tasks with an origin (STANDARD) can be preheated", { reason: "preheat-type" });
    }
    const taskId = preheatTaskId(request);
    const first = this.resources.seedHostFor(taskId);
    if (!first) {
      throw new DfError(
        "FAILED_PRECONDITION",
        "no seed peer is announced to this scheduler; start a dfdaemon in seed mode that points at it, then retry the preheat",
        { reason: "no-seed-peer", details: { taskId } },
      );
    }
    const download: DownloadRequest = { ...request, disableBackToSource: false };
    this.logger.info("preheat", { taskId, url: request.url, scope, seedHostId: first.id });
    const head = await this.#fetch(first, { ...download, needBackToSource: true }, options);
    const results = [head.result];
    if (scope !== "single") {
      const others = [...this.resources.hosts.values()].filter((h) => h !== first && (scope === "all" || h.type === "seed"));
      if (head.result.success) {
        const fetched: SeedPeerPreheat[] = [];
        await mapBounded(others, PREHEAT_FAN_OUT, async (host) => {
          fetched.push((await this.#fetch(host, { ...download, needBackToSource: false }, options)).result);
        });
        results.push(...fetched);
      } else {
        // The origin refused the first; asking it again from every seed would only repeat that.
        results.push(...others.map((seed) => resultOf(seed, false, `not attempted: ${head.result.description}`, 0)));
      }
    }
    // The seed names the task by the origin's version it found (see the daemon's
    // revalidation): that is the ID peers asking for the URL now get.
    return { taskId: head.taskId || taskId, contentLength: head.contentLength, seedPeers: results };
  }

  async #fetch(seed: Host, download: DownloadRequest, options: AbortOptions): Promise<{ result: SeedPeerPreheat; contentLength: number; taskId: string }> {
    const started = performance.now();
    try {
      const fetched = await this.fetcher.fetch(seed, download, options);
      return { result: resultOf(seed, true, "", fetched.costMs), contentLength: fetched.contentLength, taskId: fetched.taskId };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      this.logger.warn("preheat on a seed peer failed", { seedHostId: seed.id, url: download.url, error: errorMessage(error) });
      return { result: resultOf(seed, false, errorMessage(error), Math.round(performance.now() - started)), contentLength: 0, taskId: "" };
    }
  }
}

function resultOf(seed: Host, success: boolean, description: string, costMs: number): SeedPeerPreheat {
  return { hostId: seed.id, hostname: seed.info.hostname, ip: seed.info.ip, success, description, costMs };
}
