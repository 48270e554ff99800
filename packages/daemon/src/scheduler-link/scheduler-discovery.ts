import { isIP } from "node:net";
import type { Logger } from "@df/interface";
import { formatAddress, manager, managerClient, unary, type ClientTlsOptions, type ManagerRpc } from "@df/rpc";
import type { Metrics } from "@df/telemetry";
import type { DaemonConfig } from "../config.js";
import type { DaemonHost } from "../host.js";
import type { ListChange, SchedulerClients } from "./scheduler-clients.js";

/** Where the scheduler list in use came from. */
export type ListSource = "manager" | "last" | "static";

export interface ListDecision {
  addresses: readonly string[];
  source: ListSource;
}

/** A ListSchedulers call waits this long per manager address. */
const LIST_DEADLINE_MS = 3000;

/**
 * Which schedulers to use after asking the manager: its answer when it named any;
 * otherwise (unreachable, or no scheduler alive) the last list it gave, so a manager
 * outage never empties the ring; the static `scheduler.addresses` if it never gave one.
 */
export function nextSchedulerList(answer: readonly string[] | undefined, last: readonly string[] | undefined, fallback: readonly string[]): ListDecision {
  if (answer?.length) return { addresses: answer, source: "manager" };
  if (last?.length) return { addresses: last, source: "last" };
  return { addresses: fallback, source: "static" };
}

/** The `ip:port` of each scheduler a ListSchedulers answer names (the manager lists active ones only). */
export function schedulerAddressesOf(response: manager.ListSchedulersResponse): string[] {
  // Only well-formed IP:port entries: whatever the manager stores was registered by
  // someone, and a host name or a bad port here would become a channel target.
  const addresses = response.schedulers
    .filter((s) => isIP(s.ip) !== 0 && Number.isInteger(s.port) && s.port > 0 && s.port <= 65_535)
    .slice(0, MAX_SCHEDULERS)
    .map((s) => formatAddress({ kind: "tcp", host: s.ip, port: s.port }));
  return [...new Set(addresses)];
}

/** More schedulers than any cluster has; a longer answer is cut here. */
const MAX_SCHEDULERS = 1000;

export interface SchedulerDiscoveryOptions {
  config: DaemonConfig;
  host: DaemonHost;
  schedulers: SchedulerClients;
  logger: Logger;
  metrics: Metrics;
  /** The list changed (after the ring was rebuilt): e.g. announce the host to the new schedulers. */
  onChange?(change: ListChange, source: ListSource): void;
  /** The cluster's load limit for this host (client_config, or seed_client_config for a seed peer) at every answer; 0 when it sets none. */
  onLoadLimit?(loadLimit: number): void;
  /** mTLS to the managers; plaintext without. */
  tls?: ClientTlsOptions;
}

/**
 * Keeps the daemon's scheduler ring in line with the manager: ListSchedulers (with this
 * host's name, IP, IDC and location, so the manager's searcher picks its cluster) at
 * start and every `manager.refreshInterval`, the ring rebuilt from each answer. The
 * answer also carries the cluster's client config: its load limit is handed on.
 */
export class SchedulerDiscovery {
  readonly #options: SchedulerDiscoveryOptions;
  readonly #logger: Logger;
  readonly #answers;
  #clients: ManagerRpc[] | undefined;
  #last: readonly string[] | undefined;
  #source: ListSource = "static";
  #seedPeers: readonly manager.SeedPeer[] = [];
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<ListDecision> | undefined;
  /** Aborts a ListSchedulers under way when the daemon stops. */
  readonly #stopping = new AbortController();

  constructor(options: SchedulerDiscoveryOptions) {
    this.#options = options;
    this.#logger = options.logger.child("scheduler-discovery");
    const { metrics, schedulers } = options;
    this.#answers = metrics.counter("df_daemon_manager_list_schedulers_total", "ListSchedulers asked of the manager, by outcome", ["outcome"]);
    metrics.gauge("df_daemon_schedulers", "Schedulers on the ring now", [], (g) => g.set(schedulers.addresses.length));
    metrics.gauge("df_daemon_scheduler_list_source", "1 for where the scheduler list in use came from: manager, last (the manager's last answer) or static", ["source"], (g) => {
      for (const source of ["manager", "last", "static"] as const) g.set({ source }, source === this.#source ? 1 : 0);
    });
    metrics.gauge("df_daemon_manager_seed_peers", "Seed peers the manager listed with the schedulers", [], (g) => g.set(this.#seedPeers.length));
  }

  get source(): ListSource {
    return this.#source;
  }

  /** The seed peers of the cluster, as the manager last listed them with its schedulers. */
  get seedPeers(): readonly manager.SeedPeer[] {
    return this.#seedPeers;
  }

  /** Asks once (the ring is in place when this resolves), then every refreshInterval. */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#options.config.manager.refreshInterval);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopping.abort();
    await this.#refreshing?.catch(() => {});
    for (const client of this.#clients ?? []) client.close();
    this.#clients = undefined;
  }

  /** Asks the manager now and applies the answer (one refresh at a time). */
  refresh(): Promise<ListDecision> {
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #refresh(): Promise<ListDecision> {
    const { config, schedulers } = this.#options;
    const asked = await this.#ask();
    // Stopping: leave the ring as it is.
    if (this.#stopping.signal.aborted) return { addresses: schedulers.addresses, source: this.#source };
    const decision = nextSchedulerList(asked.answer, this.#last, config.scheduler.addresses);
    this.#answers.inc({ outcome: asked.answer === undefined ? "failed" : asked.answer.length ? "answered" : "empty" });
    if (decision.source === "manager") this.#last = decision.addresses;
    else {
      const why = asked.answer === undefined ? "the manager is unreachable" : "the manager lists no active scheduler";
      const what = decision.source === "last" ? "keeping the last list it gave" : "using the static scheduler.addresses";
      this.#logger.warn(`${why}; ${what}`, { addresses: decision.addresses, ...(asked.error ? { error: asked.error } : {}) });
    }
    const sourceChanged = decision.source !== this.#source;
    this.#source = decision.source;
    const change = schedulers.setAddresses(decision.addresses);
    const listChanged = change.added.length > 0 || change.removed.length > 0;
    if (listChanged || sourceChanged) {
      this.#logger.info("scheduler list in use", { source: decision.source, addresses: schedulers.addresses, added: change.added, removed: change.removed });
    }
    if (listChanged) this.#options.onChange?.(change, decision.source);
    return decision;
  }

  /** The schedulers the first manager that answers names; undefined (and why) when none answers. */
  async #ask(): Promise<{ answer?: string[]; error?: string }> {
    const { config, host } = this.#options;
    this.#clients ??= config.manager.addresses.map((address) => managerClient(address, this.#options.tls));
    const request = manager.ListSchedulersRequest.create({
      sourceType: host.seed ? manager.SourceType.SEED_PEER : manager.SourceType.PEER,
      hostname: host.hostname,
      ip: host.ip,
      ...(host.idc ? { idc: host.idc } : {}),
      ...(host.location ? { location: host.location } : {}),
      ...(config.manager.schedulerClusterId ? { schedulerClusterId: config.manager.schedulerClusterId } : {}),
    });
    const errors: string[] = [];
    for (const client of this.#clients) {
      try {
        const response = await unary(client, "listSchedulers", request, { deadlineMs: LIST_DEADLINE_MS, signal: this.#stopping.signal });
        const first = response.schedulers[0];
        if (first) {
          this.#seedPeers = first.seedPeers;
          const cluster = first.schedulerCluster;
          const loadLimit = (host.seed ? cluster?.seedClientConfig : cluster?.clientConfig)?.loadLimit ?? 0;
          this.#options.onLoadLimit?.(loadLimit);
        }
        return { answer: schedulerAddressesOf(response) };
      } catch (error) {
        if (this.#stopping.signal.aborted) break;
        errors.push(`${formatAddress(client.address)}: ${(error as Error).message}`);
      }
    }
    return { error: errors.join("; ") };
  }
}
