import "reflect-metadata";
import { setTimeout as sleep } from "node:timers/promises";
import { inject, injectable } from "tsyringe";
import { DfError, Tokens, type Clock, type Logger } from "@df/interface";
import { pieceCount as countPieces } from "@df/piece";
import type { Host } from "../resource/host.js";
import type { Peer } from "../resource/peer.js";
import { Resources } from "../resource/resources.js";
import type { Task } from "../resource/task.js";
import { ParentSelector } from "../scheduling/parent-selector.js";
import { SchedulerTokens } from "../tokens.js";
import { addMoreParents, scheduleParents } from "../scheduling/schedule.js";
import { rateKey } from "../limits/caller.js";
import type { AnnouncementEvents, AnnouncementOptions } from "./announcement-options.js";
import { taskInfoFor } from "./task-info.js";
import type { DownloadRequest, PieceReport, ScheduleResponse, SeedPeerTrigger } from "./types.js";

export { DEFAULT_ANNOUNCEMENT_OPTIONS, type AnnouncementEvents, type AnnouncementOptions } from "./announcement-options.js";

/**
 * What the scheduler does with each message of a peer's AnnouncePeer stream, apart from
 * the wire: register (with seed triggering and back-to-source decisions), progress and
 * failure reports, rescheduling, leaving.
 */
@injectable()
export class Announcements {
  readonly #registering = new Map<string, number>();

  constructor(
    @inject(Resources) private readonly resources: Resources,
    @inject(ParentSelector) private readonly selector: ParentSelector,
    @inject(SchedulerTokens.SeedPeerTrigger) private readonly seeds: SeedPeerTrigger | undefined,
    @inject(Tokens.Clock) private readonly clock: Clock,
    @inject(SchedulerTokens.AnnouncementOptions) private readonly options: AnnouncementOptions,
    @inject(Tokens.Logger) private readonly logger: Logger,
    @inject(SchedulerTokens.AnnouncementEvents) private readonly events: AnnouncementEvents,
  ) {}

  async register(
    hostId: string,
    taskId: string,
    peerId: string,
    download: DownloadRequest,
    signal?: AbortSignal,
  ): Promise<ScheduleResponse> {
    const host = this.resources.host(hostId);
    const inFlight = this.#registering.get(host.id) ?? 0;
    this.#registering.set(host.id, inFlight + 1);
    try {
      await this.#damp(host, inFlight, signal);
      return await this.#register(host, taskId, peerId, download, signal);
    } finally {
      const left = (this.#registering.get(host.id) ?? 1) - 1;
      if (left <= 0) this.#registering.delete(host.id);
      else this.#registering.set(host.id, left);
    }
  }

  async #register(
    host: Host,
    taskId: string,
    peerId: string,
    download: DownloadRequest,
    signal?: AbortSignal,
  ): Promise<ScheduleResponse> {
    const now = this.clock.now();
    const task = this.resources.taskOrCreate(
      taskId,
      taskInfoFor(download, this.options.backToSourceLimit),
      now,
    );
    if (download.contentLength !== undefined && task.contentLength === undefined && download.pieceLength) {
      task.setContent(download.contentLength, download.pieceLength, countPieces(download.contentLength, download.pieceLength));
    }
    const peer = this.resources.peerOrCreate(peerId, task, host, {
      now,
      needBackToSource: download.needBackToSource,
      ...(download.concurrentPieceCount ? { concurrentPieceCount: download.concurrentPieceCount } : {}),
    });
    this.#decideSource(task, peer, download);
    if (task.fsm.can("download")) task.fsm.fire("download");

    if (task.contentLength === 0) {
      peer.fsm.fire("register-empty");
      return this.#respond(peer, { kind: "empty-task" }, 0);
    }
    peer.fsm.fire("register-normal");
    return this.#schedule(peer, download.disableBackToSource, signal);
  }

  downloadStarted(peerId: string): void {
    const peer = this.#peer(peerId);
    if (peer.fsm.can("download")) peer.fsm.fire("download");
    peer.touch(this.clock.now());
  }

  backToSourceStarted(peerId: string): void {
    const peer = this.#peer(peerId);
    if (!peer.fsm.is("back-to-source")) peer.fsm.fire("download-back-to-source");
    peer.task.backToSourcePeers.add(peer.id);
    peer.task.deleteInEdges(peer);
    peer.touch(this.clock.now());
  }

  async reschedule(peerId: string, blockedParentIds: readonly string[], disableBackToSource: boolean, signal?: AbortSignal): Promise<ScheduleResponse> {
    const peer = this.#peer(peerId);
    // Only peers of the task can be parents: other IDs would only grow the set.
    for (const id of blockedParentIds) if (peer.task.dag.has(id)) peer.blockedParents.add(id);
    for (const parent of peer.task.parentsOf(peer)) peer.blockedParents.add(parent.id);
    peer.touch(this.clock.now());
    return this.#schedule(peer, disableBackToSource, signal);
  }

  /**
   * The peer keeps its parents and asks for more: one selection round that leaves out
   * its current parents (the graph's and `currentParentIds`, which are not blocked) and
   * answers with only the new ones, possibly none. Never retries, never sends the peer
   * to the source, never fails it. A peer that is done, failed or gone gets none.
   */
  moreParents(peerId: string, currentParentIds: readonly string[]): ScheduleResponse {
    const peer = this.#peer(peerId);
    peer.touch(this.clock.now());
    const added = peer.fsm.is("pending", "succeeded", "failed", "left")
      ? []
      : addMoreParents(peer, this.selector, currentParentIds, (_, selection) => {
          if (selection.parents.length === 0) {
            this.logger.debug("no new parent", { taskId: peer.task.id, peerId: peer.id, sampled: selection.sampled, dropped: selection.dropped });
          }
        });
    this.events.onMoreParents?.(peer, added);
    return { kind: "normal-task", parents: added };
  }

  pieceFinished(peerId: string, piece: PieceReport): void {
    const peer = this.#peer(peerId);
    peer.finishPiece(piece.number, piece.costMs, this.clock.now());
    if (piece.parentId) {
      const parent = this.resources.peers.get(piece.parentId);
      if (parent) parent.host.uploadCount++;
    }
  }

  /**
   * A piece from `parentId` failed; its host's upload success drops either way. A
   * temporary failure (slow or busy) keeps the parent: banning a saturated seed for the
   * task leaves its children only the origin. Otherwise it stops being this child's
   * parent and is blocked for it from now on.
   */
  pieceFailed(peerId: string, pieceNumber: number, parentId: string | undefined, temporary: boolean, badContent = false): void {
    const peer = this.#peer(peerId);
    peer.touch(this.clock.now());
    if (!parentId) return;
    const parent = this.resources.peers.get(parentId);
    parent?.host.recordUploadFailure();
    // Only a peer of this task is remembered: a made-up ID would grow the set for nothing.
    if (!temporary && parent && parent.task === peer.task) {
      peer.blockedParents.add(parentId);
      peer.task.deleteEdge(parent, peer);
    }
    // Only a peer of this task on another host can vouch for a parent of this task, and
    // reporters count by the address their host announced from: one caller may announce
    // many hosts, and must not block a good parent for everyone on its own.
    if (badContent && parent && parent.task === peer.task && parent.host.id !== peer.host.id) {
      const task = peer.task;
      const reporter = peer.host.boundAddress === undefined ? peer.host.id : rateKey(peer.host.boundAddress);
      if (task.reportBadContent(parentId, reporter, this.options.badContentReporters ?? 2)) {
        for (const child of task.childrenOf(parent)) task.deleteEdge(parent, child);
        this.events.onParentBlocked?.(task, parent);
        this.logger.warn("a parent that served wrong bytes to several hosts is blocked for the task", { taskId: task.id, parentId, hostId: parent.host.id });
      }
    }
    this.logger.debug("piece failed", { peerId, pieceNumber, parentId, temporary, badContent });
  }

  peerFinished(peerId: string, content: { contentLength: number; pieceCount: number; pieceLength?: number }): void {
    const peer = this.#peer(peerId);
    const task = peer.task;
    if (task.contentLength === undefined && content.pieceLength) {
      task.setContent(content.contentLength, content.pieceLength, content.pieceCount);
    }
    if (!peer.fsm.is("succeeded")) peer.fsm.fire("download-succeeded");
    task.backToSourcePeers.delete(peer.id);
    task.peerFailedCount = 0;
    if (task.fsm.can("download-succeeded")) task.fsm.fire("download-succeeded");
    // A finished peer needs no parents any more; free their upload slots.
    task.deleteInEdges(peer);
    peer.touch(this.clock.now());
  }

  peerFailed(peerId: string, description: string): void {
    const peer = this.#peer(peerId);
    const task = peer.task;
    const fromSource = peer.fsm.is("back-to-source");
    if (peer.fsm.can("download-failed")) peer.fsm.fire("download-failed");
    if (fromSource) task.peerFailedCount++;
    task.backToSourcePeers.delete(peer.id);
    task.deleteInEdges(peer);
    if (peer.host.type === "seed") task.seedFailedAt = this.clock.now();
    this.logger.info("peer failed", { peerId, taskId: task.id, fromSource, description });
  }

  leave(peerId: string): void {
    if (!this.resources.peers.has(peerId)) return;
    this.resources.deletePeer(peerId);
  }

  #peer(peerId: string): Peer {
    const peer = this.resources.peers.get(peerId);
    if (!peer) {
      throw new DfError("NOT_FOUND", `peer ${peerId} is not registered with this scheduler; register it first`, {
        reason: "peer-not-found",
        details: { peerId },
      });
    }
    return peer;
  }

  /**
   * Who fetches a task from the source (reference §4.1 step 4): a new or failed task is
   * handed to a seed peer when one is alive and has not recently failed it; a seed host
   * itself, or the first peer when no seed exists, goes to the source directly.
   */
  #decideSource(task: Task<Peer>, peer: Peer, download: DownloadRequest): void {
    if (download.needBackToSource || download.disableBackToSource) return;
    const needsSource = task.fsm.is("pending", "failed", "left") || (task.fsm.is("succeeded") && !task.hasAvailablePeer(peer.blockedParents));
    if (!needsSource) return;
    if (peer.host.type === "seed") {
      peer.needBackToSource = true;
      return;
    }
    const now = this.clock.now();
    const seedRecentlyFailed = task.seedFailedAt !== undefined && now - task.seedFailedAt < this.options.seedPeerFailedTimeoutMs;
    const seed = this.seeds && !seedRecentlyFailed ? this.resources.seedHostFor(task.id) : undefined;
    if (!seed || !this.seeds) {
      if (!this.#someoneFetches(task, peer)) peer.needBackToSource = true;
      return;
    }
    if (task.seedTriggeredAt !== undefined && task.fsm.is("running")) return;
    task.seedTriggeredAt = now;
    this.seeds.trigger(seed, task.id, { ...download, needBackToSource: true }).then(
      () => this.events.onSeedTrigger?.(task, seed, "started"),
      (error: unknown) => {
        task.seedFailedAt = this.clock.now();
        task.seedTriggeredAt = undefined;
        this.logger.warn("seed peer trigger failed", { taskId: task.id, seedHostId: seed.id, error: String(error) });
        this.events.onSeedTrigger?.(task, seed, "failed", error);
      },
    );
  }

  /** True when another peer of the task is already fetching it from the source or holds it. */
  #someoneFetches(task: Task<Peer>, except: Peer): boolean {
    for (const peer of task.dag.values()) {
      if (peer !== except && (peer.fsm.is("back-to-source", "succeeded") || peer.needBackToSource)) return true;
    }
    return false;
  }

  async #schedule(peer: Peer, disableBackToSource: boolean, signal?: AbortSignal): Promise<ScheduleResponse> {
    const outcome = await scheduleParents(peer, this.selector, this.options.retry, {
      disableBackToSource,
      ...(signal ? { signal } : {}),
      onRound: (round, selection) => {
        if (selection.parents.length === 0) {
          this.logger.debug("no parent this round", { taskId: peer.task.id, peerId: peer.id, round, sampled: selection.sampled, dropped: selection.dropped });
        }
      },
    });
    if (outcome.kind === "parents") {
      return this.#respond(peer, { kind: "normal-task", parents: outcome.parents }, outcome.rounds);
    }
    return this.#respond(peer, { kind: "need-back-to-source", description: outcome.reason }, outcome.rounds);
  }

  #respond(peer: Peer, response: ScheduleResponse, rounds: number): ScheduleResponse {
    this.events.onSchedule?.(peer, response, rounds);
    return response;
  }

  /** Delays a register while its host has others in flight: min(base·2^n, 1 s), jittered. */
  async #damp(host: Host, inFlight: number, signal?: AbortSignal): Promise<void> {
    if (host.type === "seed" || this.options.registerDelayBaseMs <= 0 || inFlight === 0) return;
    const delay = Math.min(this.options.registerDelayBaseMs * 2 ** inFlight, 1000);
    await sleep(delay / 2 + Math.random() * delay, undefined, signal ? { signal } : undefined);
  }
}
