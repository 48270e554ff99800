import { DfError } from "@df/interface/errors";
import { HostType } from "./gen/df/common/v1/host.js";
import { SourceType } from "./gen/df/manager/v1/manager.js";
import type { MemberIdentity, MemberRole } from "./member-identity.js";

/** The host a request speaks for, and as what: it must be the caller's own. */
export interface Claim {
  hostId: string;
  /** The role the request claims (a seed host, a scheduler registration); defaults to the caller's. */
  role?: MemberRole;
}

/** Who may call one RPC over mTLS. */
export interface AccessRule {
  /** Roles whose certificate may call it; empty: no remote caller at all. */
  readonly roles: readonly MemberRole[];
  /** For RPCs that act on a host: the host each request (each message of a stream) names. */
  readonly claim?: (request: never) => Claim | undefined;
}

/** Method path (`/df.scheduler.v1.Scheduler/AnnounceHost`) to rule. */
export type AccessTable = Readonly<Record<string, AccessRule>>;

const DAEMONS = ["peer", "seed"] as const;

interface HostIdRequest {
  hostId: string;
}
const ownHostId = (request: HostIdRequest): Claim => ({ hostId: request.hostId });

interface MemberRequest {
  sourceType: SourceType;
  hostname: string;
  ip: string;
}
/** A fleet request names its sender by source type, hostname and IP: the host ID its certificate must carry. */
function fleetClaim(request: MemberRequest): Claim | undefined {
  switch (request.sourceType) {
    case SourceType.SCHEDULER:
      return { role: "scheduler", hostId: request.hostname };
    case SourceType.SEED_PEER:
      return { role: "seed", hostId: `${request.ip}-${request.hostname}-seed` };
    case SourceType.PEER:
      return { role: "peer", hostId: `${request.ip}-${request.hostname}` };
    default:
      return undefined;
  }
}

/**
 * Every RPC a member serves over the network and who may call it, decided from who calls
 * it in df today. A remote peer may only ask for piece metadata and bytes; tasks are
 * started on a daemon only by a scheduler (seed triggers, preheat); a host announces,
 * updates and deletes only itself; the manager's fleet service takes members only, each
 * for its own registration. The daemon's download service (unix socket) is local and
 * not in here. The piece-byte port follows `PIECE_BYTES`.
 */
export const MEMBER_ACCESS: AccessTable = {
  // Scheduler: daemons announce and use it; the manager preheats and may look.
  "/df.scheduler.v1.Scheduler/AnnounceHost": {
    roles: DAEMONS,
    claim: (request: { host?: { id: string; type: HostType } }) =>
      request.host ? { hostId: request.host.id, role: request.host.type === HostType.SEED ? "seed" : "peer" } : undefined,
  },
  "/df.scheduler.v1.Scheduler/AnnouncePeer": { roles: DAEMONS, claim: ownHostId },
  "/df.scheduler.v1.Scheduler/StatPeer": { roles: [...DAEMONS, "manager"] },
  "/df.scheduler.v1.Scheduler/DeletePeer": { roles: DAEMONS, claim: ownHostId },
  "/df.scheduler.v1.Scheduler/StatTask": { roles: [...DAEMONS, "manager"] },
  "/df.scheduler.v1.Scheduler/AnnounceTask": { roles: DAEMONS, claim: ownHostId },
  "/df.scheduler.v1.Scheduler/DeleteTask": { roles: DAEMONS, claim: ownHostId },
  "/df.scheduler.v1.Scheduler/DeleteHost": { roles: DAEMONS, claim: ownHostId },
  "/df.scheduler.v1.Scheduler/PreheatTask": { roles: ["manager"] },
  // A daemon's upload service: children ask parents for piece metadata (and bytes); the
  // scheduler triggers seed peers (and peers, for preheat) and may probe a host.
  "/df.daemon.upload.v1.DfdaemonUpload/SyncPieces": { roles: DAEMONS },
  "/df.daemon.upload.v1.DfdaemonUpload/DownloadPiece": { roles: DAEMONS },
  "/df.daemon.upload.v1.DfdaemonUpload/StatTask": { roles: DAEMONS },
  "/df.daemon.upload.v1.DfdaemonUpload/SyncHost": { roles: ["scheduler"] },
  "/df.daemon.upload.v1.DfdaemonUpload/DownloadTask": { roles: ["scheduler"] },
  // Nothing in df deletes a task remotely: a host deletes its own through its socket.
  "/df.daemon.upload.v1.DfdaemonUpload/DeleteTask": { roles: [] },
  // Manager fleet service: members only, each for itself.
  "/df.manager.v1.Manager/ListSchedulers": { roles: DAEMONS, claim: fleetClaim },
  "/df.manager.v1.Manager/GetScheduler": { roles: ["scheduler"], claim: fleetClaim },
  "/df.manager.v1.Manager/UpdateScheduler": { roles: ["scheduler"], claim: fleetClaim },
  "/df.manager.v1.Manager/UpdateSeedPeer": { roles: ["seed"], claim: fleetClaim },
  "/df.manager.v1.Manager/ListSeedPeers": { roles: ["scheduler"], claim: fleetClaim },
  "/df.manager.v1.Manager/KeepAlive": { roles: ["scheduler", "seed"], claim: fleetClaim },
  "/df.manager.v1.Manager/GetSchedulerClusterConfig": { roles: ["scheduler"], claim: fleetClaim },
  "/df.manager.v1.Manager/ListApplications": { roles: ["scheduler", ...DAEMONS], claim: fleetClaim },
};

/** The daemon's piece-byte port (`GET /pieces/{taskId}/{number}`): children fetching pieces. */
export const PIECE_BYTES = "GET /pieces";
const BYTE_ACCESS: AccessTable = { [PIECE_BYTES]: { roles: DAEMONS } };

/**
 * Refuses, with PERMISSION_DENIED naming the RPC and the role, a caller the table does
 * not let call `method`; with `request`, also one that names another host than its own.
 * A method missing from the table is refused: new RPCs are closed until decided.
 */
export function authorize(method: string, caller: MemberIdentity | undefined, request?: unknown, table: AccessTable = { ...MEMBER_ACCESS, ...BYTE_ACCESS }): void {
  const rule = table[method];
  const name = method.slice(method.lastIndexOf("/") + 1) || method;
  if (caller === undefined) {
    throw new DfError("PERMISSION_DENIED", `${name}: the caller's certificate names no df member (a spiffe://df/<role>/<host-id> URI SAN)`, {
      reason: "no-member-identity",
      details: { method },
    });
  }
  if (rule === undefined || !rule.roles.includes(caller.role)) {
    const allowed = rule === undefined || rule.roles.length === 0 ? "no remote caller" : rule.roles.join(", ");
    throw new DfError("PERMISSION_DENIED", `${name} may not be called by a ${caller.role} (${caller.hostId}); allowed: ${allowed}`, {
      reason: "role-not-allowed",
      details: { method, role: caller.role, hostId: caller.hostId },
    });
  }
  if (request === undefined || rule.claim === undefined) return;
  const claim = (rule.claim as (request: unknown) => Claim | undefined)(request);
  if (claim === undefined || claim.hostId !== caller.hostId || (claim.role ?? caller.role) !== caller.role) {
    const named = claim === undefined ? "no host" : `${claim.role ?? caller.role} ${claim.hostId}`;
    throw new DfError("PERMISSION_DENIED", `${name}: a ${caller.role} (${caller.hostId}) may act only for itself, and the request names ${named}`, {
      reason: "not-own-host",
      details: { method, role: caller.role, hostId: caller.hostId, claimed: claim?.hostId ?? "" },
    });
  }
}
