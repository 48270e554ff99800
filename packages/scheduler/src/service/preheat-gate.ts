import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { DfError, errorMessage, noopLogger, type Logger } from "@df/interface";
import { parseAddress } from "@df/rpc";

/** How long the manager hosts' resolved IPs are trusted before they are looked up again. */
const RESOLVE_TTL_MS = 60_000;

/** An IP, or a CIDR block `ip/prefix`; undefined when `entry` is well formed, else why not. */
export function callerEntryProblem(entry: string): string | undefined {
  const [ip, prefix, ...rest] = entry.split("/");
  const family = isIP(ip ?? "");
  if (family === 0 || rest.length > 0) return `"${entry}" is not an IP address or a CIDR block (10.0.0.0/8, fd00::/8)`;
  if (prefix === undefined) return undefined;
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefix) || bits > max) return `"${entry}": the prefix length must be a whole number from 0 to ${max}`;
  return undefined;
}

/** The address part of a gRPC server's peer string (`1.2.3.4:5678`, `::1:5678`). */
export function callerIp(peer: string): string | undefined {
  const colon = peer.lastIndexOf(":");
  const head = colon > 0 && /^\d+$/.test(peer.slice(colon + 1)) ? peer.slice(0, colon) : peer;
  const bare = head.startsWith("[") && head.endsWith("]") ? head.slice(1, -1) : head;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped) return mapped;
  return isIP(bare) === 0 ? undefined : bare;
}

function addEntry(list: BlockList, entry: string): void {
  const [ip, prefix] = entry.split("/") as [string, string | undefined];
  const type = isIP(ip) === 6 ? "ipv6" : "ipv4";
  if (prefix === undefined) list.addAddress(ip, type);
  else list.addSubnet(ip, Number(prefix), type);
}

function contains(list: BlockList, ip: string): boolean {
  return list.check(ip, isIP(ip) === 6 ? "ipv6" : "ipv4");
}

/**
 * Who may call PreheatTask. Preheat makes the seed peers (and with `all_peers` every
 * host) fetch a URL, so it is the manager's to ask, not any peer's that can reach the
 * scheduler's port: callers must come from loopback, from an IP the configured manager
 * addresses resolve to, or from `preheat.allowedCallers` (for a manager behind NAT or a
 * load balancer). Without mTLS this rests on source addresses, which a peer on the same
 * network cannot forge on an established TCP connection.
 */
export class PreheatGate {
  readonly #fixed = new BlockList();
  readonly #managerHosts: string[];
  readonly #logger: Logger;
  readonly #now: () => number;
  #resolved: { list: BlockList; at: number } | undefined;

  constructor(options: { allowedCallers: readonly string[]; managerAddresses: readonly string[]; logger?: Logger; now?: () => number }) {
    this.#fixed.addSubnet("127.0.0.0", 8, "ipv4");
    this.#fixed.addAddress("::1", "ipv6");
    for (const entry of options.allowedCallers) {
      const problem = callerEntryProblem(entry);
      if (problem) throw new DfError("INVALID_ARGUMENT", `preheat.allowedCallers: ${problem}`);
      addEntry(this.#fixed, entry);
    }
    this.#managerHosts = options.managerAddresses.flatMap((address) => {
      const parsed = parseAddress(address);
      return parsed.kind === "tcp" ? [parsed.host] : [];
    });
    this.#logger = options.logger ?? noopLogger;
    this.#now = options.now ?? Date.now;
  }

  /** Resolves if `peer` (the call's peer string) may preheat; PERMISSION_DENIED otherwise. */
  async check(peer: string): Promise<void> {
    const ip = callerIp(peer);
    if (ip !== undefined) {
      if (contains(this.#fixed, ip)) return;
      if (contains(await this.#managers(), ip)) return;
      // The manager may have moved since the last lookup: look again before refusing.
      if (this.#resolved && this.#now() - this.#resolved.at > 1000) {
        this.#resolved = undefined;
        if (contains(await this.#managers(), ip)) return;
      }
    }
    throw new DfError(
      "PERMISSION_DENIED",
      `PreheatTask from ${peer} refused: only loopback, the manager (manager.addresses) and preheat.allowedCallers may preheat; add the manager's source IP or CIDR to preheat.allowedCallers if it reaches this scheduler through NAT`,
      { reason: "preheat-caller", details: { peer } },
    );
  }

  async #managers(): Promise<BlockList> {
    if (this.#resolved && this.#now() - this.#resolved.at < RESOLVE_TTL_MS) return this.#resolved.list;
    const list = new BlockList();
    await Promise.all(
      this.#managerHosts.map(async (host) => {
        try {
          for (const { address } of await lookup(host, { all: true })) addEntry(list, address);
        } catch (error) {
          this.#logger.warn("could not resolve a manager address for the preheat gate", { host, error: errorMessage(error) });
        }
      }),
    );
    this.#resolved = { list, at: this.#now() };
    return list;
  }
}
