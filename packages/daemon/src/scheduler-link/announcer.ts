import os from "node:os";
import { inject, injectable } from "tsyringe";
import { Tokens, type Logger } from "@df/interface";
import { common, scheduler, unary } from "@df/rpc";
import type { DaemonConfig } from "../config.js";
import { DaemonTokens } from "../tokens.js";
import type { UploadLoad } from "../upload/limiter.js";
import { DaemonHost } from "../host.js";
import { SchedulerClients } from "./scheduler-clients.js";

const ANNOUNCE_DEADLINE_MS = 3000;
const LEAVE_DEADLINE_MS = 2000;

/**
 * Keeps this host known to every scheduler: AnnounceHost at start and every
 * `scheduler.announceInterval` (a scheduler drops a host silent for two intervals), and
 * DeleteHost on a clean stop so its peers stop being handed out at once. A scheduler
 * that is down is retried at the next interval; nothing here ever fails the daemon.
 */
@injectable()
export class HostAnnouncer {
  #timer: NodeJS.Timeout | undefined;
  #load: (() => UploadLoad) | undefined;
  readonly #logger: Logger;

  constructor(
    @inject(SchedulerClients) private readonly schedulers: SchedulerClients,
    @inject(DaemonHost) private readonly host: DaemonHost,
    @inject(DaemonTokens.Config) private readonly config: DaemonConfig,
    @inject(Tokens.Logger) logger: Logger,
  ) {
    this.#logger = logger.child("announcer");
  }

  /** Where the live upload load comes from (the upload limiter), once it exists. */
  setLoad(load: () => UploadLoad): void {
    this.#load = load;
  }

  /** Announces to every scheduler once (waiting for the answers), then keeps announcing. */
  async start(): Promise<void> {
    await this.announceAll();
    this.#timer = setInterval(() => void this.announceAll(), this.config.scheduler.announceInterval);
    this.#timer.unref();
  }

  announceAll(): Promise<void> {
    return Promise.all(this.schedulers.addresses.map((address) => this.announceTo(address).catch(() => {}))).then(() => {});
  }

  /** Announces to one scheduler; rejects (after logging) when it cannot be reached. */
  async announceTo(address: string): Promise<void> {
    try {
      await unary(
        this.schedulers.client(address),
        "announceHost",
        scheduler.AnnounceHostRequest.create({ host: this.describe(), intervalMs: this.config.scheduler.announceInterval }),
        { deadlineMs: ANNOUNCE_DEADLINE_MS },
      );
    } catch (error) {
      this.#logger.warn("cannot announce this host to a scheduler; will retry", { address, error: String(error) });
      throw error;
    }
  }

  /** Stops announcing and tells every scheduler this host is leaving. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all(
      this.schedulers.addresses.map((address) =>
        unary(this.schedulers.client(address), "deleteHost", scheduler.DeleteHostRequest.create({ hostId: this.host.id }), {
          deadlineMs: LEAVE_DEADLINE_MS,
        }).catch((error: unknown) => this.#logger.debug("could not leave a scheduler", { address, error: String(error) })),
      ),
    );
  }

  /** This host as the scheduler sees it. */
  describe(): common.Host {
    const { host, config } = this;
    const rateLimit = config.upload.rateLimit;
    const memory = { total: os.totalmem(), free: os.freemem() };
    const load = this.#load?.();
    return common.Host.create({
      id: host.id,
      type: host.seed ? common.HostType.SEED : common.HostType.NORMAL,
      hostname: host.hostname,
      ip: host.ip,
      port: host.uploadPort,
      downloadPort: host.downloadPort,
      idc: host.idc,
      location: host.location,
      // The limiter's: the manager's load limit once it gave one.
      concurrentUploadLimit: load?.concurrentUploadLimit ?? config.upload.concurrencyLimit,
      concurrentUploadCount: load?.concurrentUploadCount ?? 0,
      uploadCount: load?.uploadCount ?? 0,
      uploadFailedCount: load?.uploadFailedCount ?? 0,
      // Bits per second; 0 tells children "unknown" (they then assume 10 Gbit/s).
      network: common.Network.create({
        maxTxBandwidth: rateLimit ? rateLimit * 8 : 0,
        txBandwidth: load?.txBandwidth ?? 0,
        uploadTcpConnectionCount: load?.connectionCount ?? 0,
      }),
      cpu: common.Cpu.create({ logicalCount: os.availableParallelism() }),
      memory: common.Memory.create({
        total: memory.total,
        free: memory.free,
        available: memory.free,
        used: memory.total - memory.free,
        usedPercent: memory.total > 0 ? ((memory.total - memory.free) / memory.total) * 100 : 0,
        processUsed: process.memoryUsage.rss(),
      }),
      build: common.Build.create({ nodeVersion: process.version, platform: `${process.platform}/${process.arch}` }),
      os: process.platform,
      platform: os.type(),
      kernelVersion: os.release(),
    });
  }
}
