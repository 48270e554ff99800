import { DfError } from "@df/interface";
import { HashRing } from "@df/rpc";
import { limitRefusal } from "../limits/refusal.js";
import { Host, type HostInfo } from "./host.js";
import { Peer, type PeerOptions } from "./peer.js";
import { Task, type TaskInfo, type TaskOptions } from "./task.js";

/** How many hosts, tasks and peers one scheduler holds at most (`limits` in the config). */
export interface ResourceCaps {
  maxHosts: number;
  maxTasks: number;
  maxPeers: number;
  maxPeersPerTask: number;
}

const UNCAPPED: ResourceCaps = { maxHosts: Infinity, maxTasks: Infinity, maxPeers: Infinity, maxPeersPerTask: Infinity };

/**
 * Everything one scheduler knows: hosts, tasks and peers, and the links between them.
 * All mutations go through here so that the three maps and each task's DAG agree.
 */
export class Resources {
  readonly hosts = new Map<string, Host>();
  readonly tasks = new Map<string, Task<Peer>>();
  readonly peers = new Map<string, Peer>();
  /** Seed hosts by ID, kept as hosts come and go so that counting them never walks every host. */
  readonly seedHosts = new Map<string, Host>();
  #seedRing: HashRing | undefined;
  readonly #caps: ResourceCaps;

  constructor(
    private readonly taskOptions: TaskOptions = {},
    caps: Partial<ResourceCaps> = {},
  ) {
    this.#caps = { ...UNCAPPED, ...caps };
  }

  upsertHost(info: HostInfo, now: number): Host {
    const existing = this.hosts.get(info.id);
    if (existing) {
      const wasSeed = existing.type === "seed";
      existing.update(info, now);
      if (wasSeed !== (info.type === "seed")) this.#seedsChanged(existing);
      return existing;
    }
    const { maxHosts } = this.#caps;
    if (this.hosts.size >= maxHosts) {
      throw limitRefusal(
        "RESOURCE_EXHAUSTED",
        "maxHosts",
        `this scheduler already knows ${this.hosts.size} hosts (limits.maxHosts = ${maxHosts}); raise limits.maxHosts or spread the hosts over more schedulers`,
        { max: maxHosts },
      );
    }
    const host = new Host(info, now);
    this.hosts.set(info.id, host);
    if (host.type === "seed") this.#seedsChanged(host);
    return host;
  }

  #seedsChanged(host: Host): void {
    if (host.type === "seed" && this.hosts.get(host.id) === host) this.seedHosts.set(host.id, host);
    else this.seedHosts.delete(host.id);
    this.#seedRing = undefined;
  }

  host(id: string): Host {
    const host = this.hosts.get(id);
    if (!host) {
      throw new DfError("NOT_FOUND", `host ${id} is not known to this scheduler; announce the host first (AnnounceHost)`, {
        reason: "host-not-found",
        details: { hostId: id },
      });
    }
    return host;
  }

  taskOrCreate(id: string, info: TaskInfo, now: number): Task<Peer> {
    let task = this.tasks.get(id);
    if (!task) {
      const { maxTasks } = this.#caps;
      if (this.tasks.size >= maxTasks) {
        throw limitRefusal(
          "RESOURCE_EXHAUSTED",
          "maxTasks",
          `this scheduler already knows ${this.tasks.size} tasks (limits.maxTasks = ${maxTasks}); raise limits.maxTasks or add schedulers (tasks spread over them by ID)`,
          { max: maxTasks },
        );
      }
      task = new Task<Peer>(id, info, now, this.taskOptions);
      this.tasks.set(id, task);
    }
    task.updatedAt = now;
    return task;
  }

  /** Creates the peer, or returns it when the same peer registers again. */
  peerOrCreate(id: string, task: Task<Peer>, host: Host, options: PeerOptions): Peer {
    const existing = this.peers.get(id);
    if (existing) {
      if (existing.task !== task || existing.host !== host) {
        throw new DfError("ALREADY_EXISTS", `peer ${id} is already registered for another task or host`, {
          details: { peerId: id, taskId: task.id, hostId: host.id },
        });
      }
      return existing;
    }
    const { maxPeers, maxPeersPerTask } = this.#caps;
    if (this.peers.size >= maxPeers) {
      throw limitRefusal(
        "RESOURCE_EXHAUSTED",
        "maxPeers",
        `this scheduler already knows ${this.peers.size} peers (limits.maxPeers = ${maxPeers}); raise limits.maxPeers or add schedulers`,
        { max: maxPeers },
      );
    }
    if (task.peerCount >= maxPeersPerTask) {
      throw limitRefusal(
        "RESOURCE_EXHAUSTED",
        "maxPeersPerTask",
        `task ${task.id} already has ${task.peerCount} peers (limits.maxPeersPerTask = ${maxPeersPerTask}); raise limits.maxPeersPerTask on the scheduler`,
        { taskId: task.id, max: maxPeersPerTask },
      );
    }
    const peer = new Peer(id, task, host, options);
    this.peers.set(id, peer);
    task.addPeer(peer);
    host.peers.add(id);
    return peer;
  }

  deletePeer(id: string): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.task.deletePeer(id);
    peer.host.peers.delete(id);
    this.peers.delete(id);
  }

  /** Drops a host and every peer on it (it left, or stopped announcing). */
  deleteHost(id: string): void {
    const host = this.hosts.get(id);
    if (!host) return;
    for (const peerId of [...host.peers]) this.deletePeer(peerId);
    this.hosts.delete(id);
    if (host.type === "seed") this.#seedsChanged(host);
  }

  deleteTask(id: string): void {
    const task = this.tasks.get(id);
    if (!task) return;
    for (const peerId of task.dag.ids()) this.deletePeer(peerId);
    this.tasks.delete(id);
  }

  /** The seed host a task belongs to, by consistent hash of its ID over live seed hosts. */
  seedHostFor(taskId: string, exclude: ReadonlySet<string> = new Set()): Host | undefined {
    this.#seedRing ??= new HashRing([...this.seedHosts.keys()]);
    for (const id of this.#seedRing.getN(taskId, this.#seedRing.nodes.length)) {
      if (!exclude.has(id)) return this.hosts.get(id);
    }
    return undefined;
  }
}
