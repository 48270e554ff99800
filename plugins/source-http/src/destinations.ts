import { BlockList, isIP } from "node:net";
import { DfError } from "@df/interface";

/**
 * Address ranges a daemon does not fetch from unless allowed: a caller that names a URL
 * there would use the daemon to reach what only the daemon's network can reach (its own
 * loopback services, the cloud metadata endpoint, the internal network), and the bytes
 * would be served back to anyone over the piece port.
 */
const REFUSED: ReadonlyArray<readonly [range: string, kind: string]> = [
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "shared (carrier-grade NAT)"],
  ["127.0.0.0/8", "loopback"],
  // Cloud metadata services (169.254.169.254) live here.
  ["169.254.0.0/16", "link-local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
  ["::/128", "unspecified"],
  // Ranges that carry an IPv4 address a gateway or relay may forward to: IPv4-compatible
  // and SIIT-translated forms, NAT64 (which reaches in-VPC and metadata addresses) and 6to4.
  ["::/96", "reserved (IPv4-compatible)"],
  ["::ffff:0:0:0/96", "reserved (IPv4-translated)"],
  ["64:ff9b::/96", "reserved (NAT64)"],
  ["64:ff9b:1::/48", "reserved (NAT64)"],
  ["2002::/16", "reserved (6to4)"],
  ["::1/128", "loopback"],
  ["fc00::/7", "private (unique local)"],
  ["fe80::/10", "link-local"],
  ["ff00::/8", "multicast"],
];

/** The allowed destinations as written in config: host names, addresses and CIDR ranges. */
export interface DestinationRules {
  readonly allow: readonly string[];
}

interface Cidr {
  readonly base: string;
  readonly prefix: number;
  readonly family: "ipv4" | "ipv6";
}

/** Parses one `allow` entry; undefined when it is neither a name, an address nor a CIDR range. */
export function parseAllowEntry(entry: string): { kind: "name"; name: string } | { kind: "range"; cidr: Cidr } | undefined {
  const text = entry.trim().toLowerCase();
  const slash = text.indexOf("/");
  const base = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(base);
  if (version !== 0) {
    const max = version === 4 ? 32 : 128;
    const prefix = slash === -1 ? max : Number(text.slice(slash + 1));
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (slash !== -1 && !/^\d+$/.test(text.slice(slash + 1)))) return undefined;
    return { kind: "range", cidr: { base, prefix, family: version === 4 ? "ipv4" : "ipv6" } };
  }
  if (slash !== -1) return undefined;
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (!/^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(name)) return undefined;
  return { kind: "name", name };
}

/**
 * Which origins the source may connect to. Every address a connection would use is
 * checked: an IP literal in the URL before connecting, a name's DNS answers as they come
 * back (and the connection then goes to a checked answer, so a second lookup cannot
 * swap it), on every hop of a redirect chain.
 */
export class DestinationPolicy {
  readonly #refused = new Map<string, BlockList>();
  readonly #allowed = new BlockList();
  readonly #names = new Set<string>();
  readonly #suffixes: string[] = [];

  constructor(rules: DestinationRules) {
    for (const [range, kind] of REFUSED) {
      let list = this.#refused.get(kind);
      if (!list) this.#refused.set(kind, (list = new BlockList()));
      const [base = "", prefix = ""] = range.split("/");
      list.addSubnet(base, Number(prefix), isIP(base) === 4 ? "ipv4" : "ipv6");
    }
    for (const entry of rules.allow) {
      const parsed = parseAllowEntry(entry);
      if (!parsed) throw new DfError("INVALID_ARGUMENT", `destinations.allow: "${entry}" is not a host name, an IP address or a CIDR range`, { reason: "invalid-plugin-options" });
      if (parsed.kind === "range") this.#allowed.addSubnet(parsed.cidr.base, parsed.cidr.prefix, parsed.cidr.family);
      else if (parsed.name.startsWith("*.")) this.#suffixes.push(parsed.name.slice(1));
      else this.#names.add(parsed.name);
    }
  }

  /** Whether the host name itself is allowed, whatever it resolves to. */
  allowsName(hostname: string): boolean {
    const name = hostname.toLowerCase().replace(/\.$/, "");
    return this.#names.has(name) || this.#suffixes.some((suffix) => name.endsWith(suffix));
  }

  /** Why `address` is refused ("loopback", "private", …), or undefined when it may be used. */
  refusal(address: string): string | undefined {
    const { text, family } = normalize(address);
    if (family === undefined) return "not an IP address";
    if (this.#allowed.check(text, family)) return undefined;
    for (const [kind, list] of this.#refused) if (list.check(text, family)) return kind;
    return undefined;
  }

  /** The error for a connection refused by this policy. */
  static refused(hostname: string, address: string, kind: string): DfError {
    const shown = hostname === address ? address : `${hostname} (${address})`;
    return new DfError(
      "PERMISSION_DENIED",
      `the origin ${shown} is a ${kind} address, which the http source does not fetch from by default; ` +
        `if this origin is meant to be reached, add its host name, address or range to the http source's destinations.allow in the daemon config`,
      { reason: "destination-refused", details: { hostname, address, kind } },
    );
  }
}

/** An IPv4-mapped IPv6 address is checked as the IPv4 address it carries. */
function normalize(address: string): { text: string; family: "ipv4" | "ipv6" | undefined } {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const version = isIP(bare);
  if (version === 4) return { text: bare, family: "ipv4" };
  if (version !== 6) return { text: bare, family: undefined };
  const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped?.[1] && isIP(mapped[1]) === 4) return { text: mapped[1], family: "ipv4" };
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(bare);
  if (hexMapped?.[1] && hexMapped[2]) {
    const high = parseInt(hexMapped[1], 16);
    const low = parseInt(hexMapped[2], 16);
    return { text: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: "ipv4" };
  }
  return { text: bare, family: "ipv6" };
}
