import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DfError } from "@df/interface";
import { CidrSet, parseIp, type ParsedIp } from "../util/cidr.js";

/** Who is asking for a scheduler cluster (a peer, a seed peer, a scheduler). */
export interface SearchAsker {
  hostname: string;
  ip: string;
  /** The asker's IDC. */
  idc?: string;
  /** The asker's location, `|`-separated from the widest level: `cn|east|hz`. */
  location?: string;
}

/** A scheduler cluster as the searcher sees it: scopes compiled once per cache fill. */
export interface SearchCluster {
  id: number;
  name: string;
  isDefault: boolean;
  scopes: {
    idc?: string;
    location?: string;
    cidrs?: readonly string[];
    hostnames?: readonly string[];
  };
}

/**
 * Picks scheduler clusters for an asker: the best first. Clusters the searcher finds no
 * reason to give may still be returned after the others; the caller takes the first
 * that has live schedulers. A plugin point: config `searcher` names one.
 */
export interface Searcher {
  readonly name: string;
  search(clusters: readonly SearchCluster[], asker: SearchAsker): SearchCluster[];
}

/** A searcher factory: what a searcher module's default export must be. */
export type SearcherFactory = (options: Record<string, unknown>) => Searcher;

// Reference §8.3.
export const SEARCHER_WEIGHTS = { cidr: 0.3, hostname: 0.3, idc: 0.25, location: 0.14, isDefault: 0.01 } as const;
const MAX_LOCATION_ELEMENTS = 5;

interface Compiled {
  cidrs: CidrSet;
  hostnames: RegExp[];
  idcs: string[];
  location: string[];
  locationText: string;
}

/** The asker parsed once per search, not once per cluster. */
interface Prepared {
  hostname: string;
  ip: ParsedIp | undefined;
  idc: string | undefined;
  location: string[] | undefined;
  locationText: string;
}

/**
 * The default searcher, as upstream Dragonfly's: score = 0.3·CIDR + 0.3·hostname +
 * 0.25·IDC + 0.14·location + 0.01·default, clusters sorted by score (ties by ID).
 * - CIDR: 1 when the asker's IP is in any of the cluster's CIDRs;
 * - hostname: 1 when any of the cluster's regexes matches the asker's hostname;
 * - IDC: 1 when the asker's IDC equals one of the cluster's `|`-separated IDCs;
 * - location: the number of leading `|` elements both share, over 5 (capped at 1);
 * - default: 1 for the default cluster.
 */
export class DefaultSearcher implements Searcher {
  readonly name = "default";
  readonly #compiled = new WeakMap<SearchCluster["scopes"], Compiled>();

  score(cluster: SearchCluster, asker: SearchAsker): number {
    return this.#score(cluster, prepare(asker));
  }

  search(clusters: readonly SearchCluster[], asker: SearchAsker): SearchCluster[] {
    const prepared = prepare(asker);
    return clusters
      .map((cluster) => ({ cluster, score: this.#score(cluster, prepared) }))
      .sort((a, b) => b.score - a.score || a.cluster.id - b.cluster.id)
      .map((s) => s.cluster);
  }

  #score(cluster: SearchCluster, asker: Prepared): number {
    const c = this.#compile(cluster.scopes);
    const w = SEARCHER_WEIGHTS;
    let score = 0;
    if (asker.ip && c.cidrs.has(asker.ip)) score += w.cidr;
    if (asker.hostname && c.hostnames.some((r) => r.test(asker.hostname))) score += w.hostname;
    if (asker.idc && c.idcs.includes(asker.idc)) score += w.idc;
    if (asker.location && c.location.length) score += w.location * locationAffinity(asker, c);
    if (cluster.isDefault) score += w.isDefault;
    return score;
  }

  #compile(scopes: SearchCluster["scopes"]): Compiled {
    let compiled = this.#compiled.get(scopes);
    if (!compiled) {
      const location = (scopes.location ?? "").split("|").filter(Boolean);
      compiled = {
        cidrs: new CidrSet(scopes.cidrs ?? []),
        // Scopes are validated on write; a regex that still fails to compile matches nothing.
        hostnames: (scopes.hostnames ?? []).flatMap((h) => {
          try {
            return [new RegExp(h)];
          } catch {
            return [];
          }
        }),
        idcs: (scopes.idc ?? "").split("|").filter(Boolean),
        location,
        locationText: location.join("|"),
      };
      this.#compiled.set(scopes, compiled);
    }
    return compiled;
  }
}

function prepare(asker: SearchAsker): Prepared {
  const location = asker.location ? asker.location.split("|") : undefined;
  return {
    hostname: asker.hostname,
    ip: asker.ip ? parseIp(asker.ip) : undefined,
    idc: asker.idc || undefined,
    location,
    locationText: location?.join("|") ?? "",
  };
}

/** Shared leading elements over 5, as the scheduler's location feature (reference §4.3). */
function locationAffinity(asker: Prepared, cluster: Compiled): number {
  if (asker.locationText === cluster.locationText) return 1;
  const a = asker.location!;
  const c = cluster.location;
  let shared = 0;
  const n = Math.min(a.length, c.length, MAX_LOCATION_ELEMENTS);
  while (shared < n && a[shared] === c[shared]) shared++;
  return shared / MAX_LOCATION_ELEMENTS;
}

/** Searchers shipped with the manager, by the names config uses. */
export const BUILTIN_SEARCHERS: Readonly<Record<string, SearcherFactory>> = {
  default: () => new DefaultSearcher(),
};

export type SearcherEntry = string | readonly [string, Record<string, unknown>?];

/**
 * The searcher config names: a built-in name, `[name, options]`, or a module path
 * (`./my-searcher.js`, absolute or `file:`) whose default export is a `SearcherFactory`.
 */
export async function resolveSearcher(entry: SearcherEntry, baseDir = process.cwd()): Promise<Searcher> {
  const [name, options = {}] = typeof entry === "string" ? [entry] : entry;
  const builtin = Object.hasOwn(BUILTIN_SEARCHERS, name) ? BUILTIN_SEARCHERS[name] : undefined;
  let factory: unknown = builtin;
  if (!factory) {
    if (!(name.startsWith(".") || isAbsolute(name) || name.startsWith("file:"))) {
      throw new DfError(
        "INVALID_ARGUMENT",
        `searcher: no searcher named "${name}"; built-in: ${Object.keys(BUILTIN_SEARCHERS).join(", ")}; or give a module path (./x.js)`,
        { reason: "invalid-plugin", details: { key: "searcher", name } },
      );
    }
    const url = name.startsWith("file:") ? name : pathToFileURL(resolve(baseDir, name)).href;
    try {
      factory = ((await import(url)) as { default?: unknown }).default;
    } catch (error) {
      throw new DfError("INVALID_ARGUMENT", `searcher: cannot load module "${name}" (${url}): ${(error as Error).message}`, {
        cause: error,
        reason: "invalid-plugin",
        details: { key: "searcher", name },
      });
    }
  }
  const searcher = typeof factory === "function" ? (factory as SearcherFactory)(options) : undefined;
  if (!searcher || typeof searcher.search !== "function") {
    throw new DfError("INVALID_ARGUMENT", `searcher: "${name}" must export a default factory returning { name, search() }`, {
      reason: "invalid-plugin",
      details: { key: "searcher", name },
    });
  }
  return searcher;
}
