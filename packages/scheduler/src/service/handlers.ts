import { DfError, noopLogger, type Clock, type Logger } from "@df/interface";
import { scheduler, type ServiceHandlers } from "@df/rpc";
import { CallGuard } from "../limits/call-guard.js";
import { callerAddress } from "../limits/caller.js";
import { checkedPieceCount } from "../limits/content.js";
import { checkDownload, checkHost, checkString } from "../limits/fields.js";
import { checkPieceNumber } from "../limits/piece-number.js";
import type { Peer } from "../resource/peer.js";
import type { Resources } from "../resource/resources.js";
import type { Announcements } from "./announcements.js";
import { downloadFromProto, hostInfoFromProto, peerToProto, taskToProto } from "./convert.js";
import type { Preheater } from "./preheat.js";
import type { PreheatGate } from "./preheat-gate.js";
import { taskInfoFor } from "./task-info.js";
import type { DownloadRequest, ScheduleResponse } from "./types.js";

type Request = scheduler.AnnouncePeerRequest;
type Response = scheduler.AnnouncePeerResponse;

function toResponse(request: Request, response: ScheduleResponse): Response {
  const ids = { hostId: request.hostId, taskId: request.taskId, peerId: request.peerId };
  switch (response.kind) {
    case "empty-task":
      return scheduler.AnnouncePeerResponse.create({ ...ids, response: { $case: "emptyTask", value: {} } });
    case "normal-task":
      return scheduler.AnnouncePeerResponse.create({
        ...ids,
        response: { $case: "normalTask", value: { candidateParents: response.parents.map(peerToProto) } },
      });
    case "need-back-to-source":
      return scheduler.AnnouncePeerResponse.create({
        ...ids,
        response: { $case: "needBackToSource", value: { description: response.description } },
      });
  }
}

/** Failure descriptions are only logged; a long one is cut rather than refused. */
const DESCRIPTION_LOG_LENGTH = 1024;

function checkIds(request: { hostId: string; taskId: string; peerId?: string }, guard: CallGuard): void {
  checkString(request.hostId, "host_id", guard.limits);
  checkString(request.taskId, "task_id", guard.limits);
  checkString(request.peerId, "peer_id", guard.limits);
}

/**
 * The Scheduler gRPC service: the wire around Resources and Announcements, behind the
 * guard's limits (field lengths, sizes, caps, announce rates, the host binding).
 */
export function schedulerHandlers(
  resources: Resources,
  announcements: Announcements,
  clock: Clock,
  logger: Logger = noopLogger,
  preheater?: Preheater,
  preheatGate?: PreheatGate,
  guard: CallGuard = new CallGuard(resources),
): ServiceHandlers<scheduler.SchedulerService> {
  const { limits } = guard;
  return {
    announceHost: (request, context) =>
      guard.counted(() => {
        const caller = callerAddress(context.peer);
        guard.announce(caller, "AnnounceHost", resources.hosts.get(request.host?.id ?? ""));
        checkHost(request.host, limits);
        guard.admission.announce(hostInfoFromProto(request.host, request.intervalMs), caller, clock.now());
        return scheduler.AnnounceHostResponse.create();
      }),

    async *announcePeer(requests, context) {
      let download: DownloadRequest | undefined;
      let peerId: string | undefined;
      const caller = callerAddress(context.peer);
      try {
        for await (const request of requests) {
          const event = request.request;
          if (!event) throw new DfError("INVALID_ARGUMENT", "AnnouncePeerRequest.request is empty");
          if (!download && event.$case !== "register") {
            throw new DfError("FAILED_PRECONDITION", `the first message of AnnouncePeer must be register, got ${event.$case}`);
          }
          // One stream is one peer: a report naming another peer (someone else's) is refused.
          if (download && request.peerId !== peerId) {
            throw new DfError("PERMISSION_DENIED", `this AnnouncePeer stream registered peer ${peerId}; a message for peer ${request.peerId} must come on that peer's own stream`, {
              reason: "peer-binding",
              details: { peerId: request.peerId },
            });
          }
          switch (event.$case) {
            case "register": {
              guard.announce(caller, "AnnouncePeer register", guard.admission.owned(request.hostId, caller, "AnnouncePeer"));
              checkIds(request, guard);
              checkDownload(event.value.download, limits);
              const registering = downloadFromProto(event.value.download);
              if (!request.hostId || !request.taskId || !request.peerId) {
                throw new DfError("INVALID_ARGUMENT", "register needs host_id, task_id and peer_id");
              }
              download = registering;
              peerId = request.peerId;
              yield toResponse(request, await announcements.register(request.hostId, request.taskId, request.peerId, download, context.signal));
              break;
            }
            case "downloadStarted":
              announcements.downloadStarted(request.peerId);
              break;
            case "backToSourceStarted":
              announcements.backToSourceStarted(request.peerId);
              break;
            case "reschedule": {
              guard.announce(caller, "AnnouncePeer reschedule", resources.peers.get(request.peerId)?.host);
              const listed = event.value.candidateParents.map((p) => p.id);
              yield toResponse(
                request,
                event.value.moreParents
                  ? announcements.moreParents(request.peerId, listed)
                  : await announcements.reschedule(request.peerId, listed, download!.disableBackToSource, context.signal),
              );
              break;
            }
            case "pieceFinished":
            case "pieceBackToSourceFinished": {
              const piece = event.value.piece;
              if (!piece) throw new DfError("INVALID_ARGUMENT", `${event.$case}.piece is required`);
              checkPieceNumber(piece.number, resources.peers.get(request.peerId), limits);
              announcements.pieceFinished(request.peerId, {
                number: piece.number,
                length: piece.length,
                costMs: piece.costMs,
                ...(piece.parentId ? { parentId: piece.parentId } : {}),
              });
              break;
            }
            case "pieceFailed":
              checkString(event.value.parentId, "piece_failed.parent_id", guard.limits);
              announcements.pieceFailed(request.peerId, event.value.pieceNumber, event.value.parentId || undefined, event.value.temporary, event.value.badContent);
              break;
            case "pieceBackToSourceFailed":
              announcements.pieceFailed(request.peerId, event.value.pieceNumber, undefined, true);
              break;
            case "downloadFinished":
            case "backToSourceFinished": {
              const pieceCount = checkedPieceCount(event.value, limits, event.$case);
              announcements.peerFinished(request.peerId, { ...event.value, pieceCount });
              break;
            }
            case "downloadFailed":
            case "backToSourceFailed":
              announcements.peerFailed(request.peerId, event.value.description.slice(0, DESCRIPTION_LOG_LENGTH));
              break;
          }
        }
      } catch (error) {
        throw guard.observe(error);
      } finally {
        // A peer whose stream ends before it finished can serve nobody: drop it so no child
        // is handed a parent that is gone. A finished peer stays to serve others.
        const peer: Peer | undefined = peerId ? resources.peers.get(peerId) : undefined;
        if (peer && !peer.fsm.is("succeeded")) {
          logger.debug("announce stream ended before the peer finished; dropping it", { peerId, taskId: peer.task.id });
          announcements.leave(peer.id);
        }
      }
    },

    statPeer(request) {
      const peer = resources.peers.get(request.peerId);
      if (!peer || peer.task.id !== request.taskId) {
        throw new DfError("NOT_FOUND", `peer ${request.peerId} of task ${request.taskId} is not known`, { reason: "peer-not-found" });
      }
      return scheduler.StatPeerResponse.create({ peer: peerToProto(peer) });
    },

    deletePeer: (request, context) =>
      guard.counted(() => {
        const peer = resources.peers.get(request.peerId);
        if (peer) guard.admission.owned(peer.host.id, callerAddress(context.peer), "DeletePeer");
        announcements.leave(request.peerId);
        return scheduler.DeletePeerResponse.create();
      }),

    statTask(request) {
      const task = resources.tasks.get(request.taskId);
      if (!task) {
        throw new DfError("NOT_FOUND", `task ${request.taskId} is not known to this scheduler`, {
          reason: "task-not-found",
          details: { taskId: request.taskId },
        });
      }
      return scheduler.StatTaskResponse.create({ task: taskToProto(task) });
    },

    announceTask: (request, context) => guard.counted(() => {
      const caller = callerAddress(context.peer);
      guard.announce(caller, "AnnounceTask", guard.admission.owned(request.hostId, caller, "AnnounceTask"));
      checkIds(request, guard);
      checkDownload(request.download, limits);
      const host = resources.host(request.hostId);
      const download = downloadFromProto(request.download);
      if (!request.pieceLength && request.contentLength > 0) {
        throw new DfError("INVALID_ARGUMENT", "announce_task needs piece_length for a non-empty task");
      }
      const pieceCount = checkedPieceCount(request, limits, "AnnounceTask");
      const now = clock.now();
      const task = resources.taskOrCreate(
        request.taskId,
        taskInfoFor(download, 0),
        now,
      );
      const digest = request.download?.digest || undefined;
      // A task nobody holds any more may take new content; one still held may not
      // change under its holders' children: peers would mix pieces of two files.
      if (task.contentLength !== undefined && task.hasAvailablePeer(new Set([request.peerId]))) {
        const conflict =
          task.contentLength !== request.contentLength ||
          (request.pieceLength > 0 && task.pieceLength !== request.pieceLength) ||
          (digest !== undefined && task.contentDigest !== undefined && digest !== task.contentDigest);
        if (conflict) {
          throw new DfError(
            "ALREADY_EXISTS",
            `task ${request.taskId} is already held by other peers with different content (${task.contentLength} bytes, ${task.contentDigest ?? "no digest"}; announced ${request.contentLength} bytes, ${digest ?? "no digest"}); delete it everywhere or import under another ID`,
            { reason: "task-content-conflict", details: { taskId: request.taskId } },
          );
        }
      } else {
        task.setContent(request.contentLength, request.pieceLength, pieceCount);
        task.contentDigest = digest;
      }
      task.contentDigest ??= digest;
      const peer = resources.peerOrCreate(request.peerId, task, host, { now });
      if (peer.fsm.can("register-normal")) peer.fsm.fire("register-normal");
      if (!peer.fsm.is("succeeded")) peer.fsm.fire("download-succeeded");
      peer.finishAll(task.totalPieceCount);
      if (task.fsm.can("download")) task.fsm.fire("download");
      if (task.fsm.can("download-succeeded")) task.fsm.fire("download-succeeded");
      return scheduler.AnnounceTaskResponse.create();
    }),

    deleteTask: (request, context) => guard.counted(() => {
      const host = guard.admission.owned(request.hostId, callerAddress(context.peer), "DeleteTask");
      for (const peerId of host ? [...host.peers] : []) {
        if (resources.peers.get(peerId)?.task.id === request.taskId) announcements.leave(peerId);
      }
      return scheduler.DeleteTaskResponse.create();
    }),

    deleteHost: (request, context) =>
      guard.counted(() => {
        guard.admission.owned(request.hostId, callerAddress(context.peer), "DeleteHost");
        resources.deleteHost(request.hostId);
        return scheduler.DeleteHostResponse.create();
      }),

    async preheatTask(request, context) {
      if (!preheater) throw new DfError("UNIMPLEMENTED", "this scheduler has no seed peer fetcher; preheat is not available");
      await preheatGate?.check(context.peer);
      const download = downloadFromProto(request.download);
      const scope =
        request.scope === scheduler.PreheatScope.ALL_PEERS ? "all" : request.scope === scheduler.PreheatScope.ALL_SEED_PEERS ? "seeds" : "single";
      const result = await preheater.preheat(download, scope, { signal: context.signal });
      return scheduler.PreheatTaskResponse.create(result);
    },
  };
}
