import { hostId, peerId } from "@df/piece";
import type { DaemonConfig } from "./config.js";

/**
 * Who this daemon is to the scheduler and to other peers: its host ID, address and
 * bound ports. Ports are known once the servers listen (config may say port 0).
 */
export class DaemonHost {
  readonly id: string;
  readonly hostname: string;
  readonly ip: string;
  readonly seed: boolean;
  readonly idc: string;
  readonly location: string;
  #uploadPort = 0;
  #downloadPort = 0;

  constructor(config: DaemonConfig) {
    this.hostname = config.host.hostname;
    this.ip = config.host.ip;
    this.seed = config.seedPeer.enable;
    this.idc = config.host.idc;
    this.location = config.host.location;
    this.id = hostId(this.ip, this.hostname, { seed: this.seed });
  }

  /** Port of the upload gRPC service, 0 before it listens. */
  get uploadPort(): number {
    return this.#uploadPort;
  }

  /** Port of the piece-byte transport, 0 when bytes go over gRPC only. */
  get downloadPort(): number {
    return this.#downloadPort;
  }

  setPorts(ports: { upload: number; download: number }): void {
    this.#uploadPort = ports.upload;
    this.#downloadPort = ports.download;
  }

  /** A fresh peer ID: one per download, as upstream names peers. */
  newPeerId(): string {
    return peerId(this.ip, this.hostname, { seed: this.seed });
  }
}
