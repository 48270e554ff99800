import type { SchedulerConfig } from "../config.js";
import type { Host, HostInfo } from "../resource/host.js";
import type { Resources } from "../resource/resources.js";
import { limitRefusal } from "./refusal.js";

/**
 * Who may announce, use and delete a host, until mTLS gives callers an identity: a host
 * is bound to the caller address it first announced from (see callerAddress), and calls
 * naming it from any other address are refused PERMISSION_DENIED. A host whose address
 * changes gets a new ID anyway (IDs start with the IP); one that moves source address
 * under the same ID is forgotten after gc.hostMissedAnnounces missed announces and may
 * then announce afresh.
 *
 * Seed peers are trusted with new tasks, so claiming to be one is limited: seeds the
 * manager lists (ListSeedPeers) are always taken; others, announcing themselves as seeds,
 * only up to limits.maxSelfDeclaredSeeds at once.
 */
export class HostAdmission {
  constructor(
    private readonly resources: Resources,
    private readonly limits: SchedulerConfig["limits"],
  ) {}

  /** The host named `hostId` if `caller` may act for it (undefined when unknown). */
  owned(hostId: string, caller: string, call: string): Host | undefined {
    const host = this.resources.hosts.get(hostId);
    if (host?.boundAddress !== undefined && host.boundAddress !== caller) {
      throw limitRefusal(
        "PERMISSION_DENIED",
        "hostBinding",
        `${call} for host ${hostId} from ${caller} refused: the host announced itself from ${host.boundAddress}, and only calls from that address may update, use or delete it; a host that moved is forgotten after gc.hostMissedAnnounces missed announces and may then announce from its new address`,
        { hostId, caller },
      );
    }
    return host;
  }

  /** AnnounceHost: the owner check, the seed rule, then the host is recorded and bound. */
  announce(info: HostInfo, caller: string, now: number): Host {
    const existing = this.owned(info.id, caller, "AnnounceHost");
    if (info.type === "seed" && existing?.type !== "seed" && !existing?.listedByManager) this.#checkSeedClaim(info);
    const host = this.resources.upsertHost(info, now);
    host.boundAddress ??= caller;
    return host;
  }

  #checkSeedClaim(info: HostInfo): void {
    const max = this.limits.maxSelfDeclaredSeeds;
    let selfDeclared = 0;
    for (const seed of this.resources.seedHosts.values()) if (!seed.listedByManager) selfDeclared++;
    if (selfDeclared < max) return;
    throw limitRefusal(
      "PERMISSION_DENIED",
      "maxSelfDeclaredSeeds",
      `host ${info.id} may not join as a seed peer: ${selfDeclared} seed peers the manager does not list have joined already (limits.maxSelfDeclaredSeeds = ${max}); register the seed peer with the manager, or raise limits.maxSelfDeclaredSeeds on the scheduler`,
      { hostId: info.id, max },
    );
  }
}
