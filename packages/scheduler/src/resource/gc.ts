import type { Logger } from "@df/interface";
import type { Resources } from "./resources.js";

export interface GcOptions {
  /** A peer not heard from for this long is dropped (reference 24 h). */
  peerTtlMs: number;
  /** A downloading peer that finished no piece for this long is dropped (reference 30 min). */
  pieceDownloadTimeoutMs: number;
  /** A host is dropped after this many missed announce intervals (reference 2). */
  hostMissedAnnounces: number;
  /** Hosts that never said how often they announce get this interval. */
  defaultAnnounceIntervalMs: number;
}

export const DEFAULT_GC_OPTIONS: GcOptions = {
  peerTtlMs: 24 * 3_600_000,
  pieceDownloadTimeoutMs: 30 * 60_000,
  hostMissedAnnounces: 2,
  defaultAnnounceIntervalMs: 5 * 60_000,
};

export interface GcResult {
  hosts: number;
  peers: number;
  tasks: number;
}

/**
 * One sweep over the scheduler's state: hosts that stopped announcing go with their
 * peers; peers that left, failed, stalled or went silent go; tasks with no peer go.
 */
export function collectGarbage(resources: Resources, now: number, options: GcOptions, logger?: Logger): GcResult {
  const result: GcResult = { hosts: 0, peers: 0, tasks: 0 };
  for (const host of [...resources.hosts.values()]) {
    const interval = host.info.announceIntervalMs || options.defaultAnnounceIntervalMs;
    if (now - host.updatedAt > interval * options.hostMissedAnnounces) {
      logger?.info("dropping host that stopped announcing", { hostId: host.id, silentMs: now - host.updatedAt });
      result.peers += host.peers.size;
      resources.deleteHost(host.id);
      result.hosts++;
    }
  }
  for (const peer of [...resources.peers.values()]) {
    const stalled = peer.fsm.is("running", "back-to-source") && now - peer.pieceUpdatedAt > options.pieceDownloadTimeoutMs;
    const silent = now - peer.updatedAt > options.peerTtlMs;
    if (peer.fsm.is("left", "failed") || stalled || silent) {
      if (stalled || silent) logger?.info("dropping peer", { peerId: peer.id, taskId: peer.task.id, stalled, silent });
      resources.deletePeer(peer.id);
      result.peers++;
    }
  }
  for (const task of [...resources.tasks.values()]) {
    if (task.peerCount === 0) {
      resources.deleteTask(task.id);
      result.tasks++;
    }
  }
  return result;
}
