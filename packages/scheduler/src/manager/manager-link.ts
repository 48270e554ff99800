import type { Clock, Logger } from "@df/interface";
import { hostId } from "@df/piece";
import { common, manager, ManagerMembership, unary, type ClientTlsOptions, type ManagerRpc } from "@df/rpc";
import type { Metrics } from "@df/telemetry";
import type { SchedulerConfig } from "../config.js";
import type { Resources } from "../resource/resources.js";
import { hostInfoFromProto } from "../service/convert.js";
import { callerAddress } from "../limits/caller.js";
import type { LiveScheduling } from "./live-config.js";

export interface ManagerLinkOptions {
  config: SchedulerConfig;
  /** Where peers reach this scheduler: registered with the manager. */
  advertise: { ip: string; port: number };
  live: LiveScheduling;
  resources: Resources;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Backoff of re-registration (tests shorten it). */
  retry?: { initialMs?: number; maxMs?: number };
  /** mTLS to the managers; plaintext without. */
  tls?: ClientTlsOptions;
}

/**
 * The scheduler's side of the manager: membership (register, keepalive, back after the
 * manager returns) and the cluster's dynamic config, pulled at start, whenever the
 * keepalive stream announces a new revision, and every `configRefreshInterval`. Each
 * pull also lists the cluster's active seed peers, so a seed the manager knows of can be
 * triggered before it has announced itself here.
 */
export class ManagerLink {
  readonly #options: ManagerLinkOptions;
  readonly #membership: ManagerMembership;
  readonly #logger: Logger;
  readonly #pulls;
  /** Host records made from the manager's seed list (not from the seed's own announce). */
  readonly #learned = new WeakSet<object>();
  #revision: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pulling: Promise<void> | undefined;
  #pullAgain = false;
  /** Aborts a pull under way when the scheduler stops. */
  readonly #stopping = new AbortController();

  constructor(options: ManagerLinkOptions) {
    this.#options = options;
    const { config, advertise, metrics } = options;
    this.#logger = options.logger.child("manager");
    const identity = {
      sourceType: manager.SourceType.SCHEDULER,
      hostname: config.host.hostname,
      ip: advertise.ip,
    };
    const alive = metrics.gauge("df_scheduler_manager_alive", "1 while the scheduler holds a keepalive stream with the manager");
    const registrations = metrics.counter("df_scheduler_manager_registrations_total", "UpdateScheduler calls the manager accepted");
    const keepalives = metrics.counter("df_scheduler_manager_keepalives_total", "KeepAlive messages sent to the manager");
    this.#pulls = metrics.counter("df_scheduler_manager_config_pulls_total", "Dynamic config pulls from the manager, by outcome", ["outcome"]);
    metrics.gauge("df_scheduler_manager_config_revision", "Revision of the cluster config last applied", [], (g) => g.set(this.#revision ?? 0));
    alive.set(0);
    this.#membership = new ManagerMembership({
      addresses: config.manager.addresses,
      identity: manager.KeepAliveRequest.create({ ...identity, clusterId: config.manager.schedulerClusterId }),
      intervalMs: config.manager.keepAliveInterval,
      logger: this.#logger,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      register: async (client, signal) => {
        await unary(
          client,
          "updateScheduler",
          manager.UpdateSchedulerRequest.create({
            ...identity,
            port: advertise.port,
            idc: config.host.idc,
            location: config.host.location,
            schedulerClusterId: config.manager.schedulerClusterId,
            features: config.manager.features,
          }),
          { signal },
        );
        registrations.inc();
      },
      events: {
        onState: (state) => alive.set(state === "alive" ? 1 : 0),
        onBeat: () => keepalives.inc(),
        onRevision: (revision) => {
          if (revision !== this.#revision) void this.pull();
        },
      },
    });
  }

  get membership(): ManagerMembership {
    return this.#membership;
  }

  /** Revision of the cluster config last applied (undefined before the first pull). */
  get revision(): number | undefined {
    return this.#revision;
  }

  /** Starts in the background: a manager that is down never holds the scheduler up. */
  start(): void {
    this.#membership.start();
    void this.pull();
    this.#timer = setInterval(() => void this.pull(), this.#options.config.manager.configRefreshInterval);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    clearInterval(this.#timer);
    await this.#pulling;
    await this.#membership.stop();
  }

  /** Pulls the dynamic config (and seed peers) now; a pull asked for during one runs after it. */
  pull(): Promise<void> {
    if (this.#pulling) {
      this.#pullAgain = true;
      return this.#pulling;
    }
    const run = async (): Promise<void> => {
      do {
        this.#pullAgain = false;
        await this.#pullOnce();
      } while (this.#pullAgain && !this.#stopping.signal.aborted);
    };
    this.#pulling = run().finally(() => (this.#pulling = undefined));
    return this.#pulling;
  }

  async #pullOnce(): Promise<void> {
    const { signal } = this.#stopping;
    if (signal.aborted) return;
    let last: unknown;
    for (const client of this.#membership.clients()) {
      try {
        await this.#pullFrom(client);
        this.#pulls.inc({ outcome: "applied" });
        return;
      } catch (error) {
        if (signal.aborted) return;
        last = error;
      }
    }
    this.#pulls.inc({ outcome: "failed" });
    this.#logger.warn("cannot pull the dynamic config from the manager; keeping the current one", {
      error: (last as Error | undefined)?.message,
      revision: this.#revision,
    });
  }

  async #pullFrom(client: ManagerRpc): Promise<void> {
    const { config, advertise, live, resources, clock } = this.#options;
    const asker = { sourceType: manager.SourceType.SCHEDULER, hostname: config.host.hostname, ip: advertise.ip, schedulerClusterId: config.manager.schedulerClusterId };
    const { signal } = this.#stopping;
    const answer = await unary(client, "getSchedulerClusterConfig", manager.GetSchedulerClusterConfigRequest.create(asker), { signal });
    if (answer.config) {
      const { changed, rejected } = live.apply(answer.config);
      if (Object.keys(changed).length > 0) {
        this.#logger.info("dynamic config applied", { revision: answer.configRevision, changed, ...live.values });
      }
      if (Object.keys(rejected).length > 0) this.#logger.warn("the manager's config has values out of range; kept the current ones", { rejected });
    }
    this.#revision = answer.configRevision;
    const { seedPeers } = await unary(client, "listSeedPeers", manager.ListSeedPeersRequest.create(asker), { signal });
    const now = clock.now();
    for (const seed of seedPeers) {
      const id = hostId(seed.ip, seed.hostname, { seed: true });
      // A seed that announced itself here carries live load figures: keep those.
      const known = resources.hosts.get(id);
      if (known && !this.#learned.has(known.info)) {
        known.listedByManager = true;
        continue;
      }
      const host = common.Host.create({
        id,
        type: common.HostType.SEED,
        hostname: seed.hostname,
        ip: seed.ip,
        port: seed.port,
        downloadPort: seed.downloadPort,
        idc: seed.idc,
        location: seed.location,
        concurrentUploadLimit: seed.seedPeerCluster?.config?.loadLimit ?? 0,
      });
      // Listed again: kept here for gc.hostMissedAnnounces more pulls, like a host that announces.
      const info = hostInfoFromProto(host, config.manager.configRefreshInterval);
      this.#learned.add(info);
      const learned = resources.upsertHost(info, now);
      learned.listedByManager = true;
      // Until the seed announces itself, calls naming it must come from the IP the manager has for it.
      learned.boundAddress ??= callerAddress(seed.ip);
      if (!known) this.#logger.info("seed peer learned from the manager", { hostId: id, address: `${seed.ip}:${seed.port}` });
    }
  }
}
