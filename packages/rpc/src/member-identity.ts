import type { PeerCertificate } from "node:tls";

/** Who a member is in the cluster; carried in its certificate. */
export const MEMBER_ROLES = ["manager", "scheduler", "seed", "peer"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** A caller as its certificate names it. */
export interface MemberIdentity {
  readonly role: MemberRole;
  /**
   * The member's host: a daemon's host ID (`{ip}-{hostname}`, `-seed` appended on a seed
   * peer), a scheduler's hostname as it registers with the manager, the manager's name.
   */
  readonly hostId: string;
}

const URI_PREFIX = "spiffe://df/";

/** The URI SAN that names a member: `spiffe://df/<role>/<host-id>`. */
export function memberUri(identity: MemberIdentity): string {
  return `${URI_PREFIX}${identity.role}/${identity.hostId}`;
}

/**
 * The member a verified peer certificate names, from its one `spiffe://df/<role>/<host-id>`
 * URI SAN; undefined when there is none, when there are several, or when the role is
 * unknown (such a certificate is trusted by the CA but names nobody, so it may call nothing).
 */
export function identityOf(cert: PeerCertificate | null | undefined): MemberIdentity | undefined {
  const sans = cert?.subjectaltname;
  if (typeof sans !== "string") return undefined;
  const found: MemberIdentity[] = [];
  for (const entry of sans.split(", ")) {
    if (!entry.startsWith(`URI:${URI_PREFIX}`)) continue;
    const rest = entry.slice(`URI:${URI_PREFIX}`.length);
    const slash = rest.indexOf("/");
    const role = rest.slice(0, slash);
    const hostId = rest.slice(slash + 1);
    if (slash <= 0 || hostId === "" || !(MEMBER_ROLES as readonly string[]).includes(role)) return undefined;
    found.push({ role: role as MemberRole, hostId });
  }
  return found.length === 1 ? found[0] : undefined;
}
