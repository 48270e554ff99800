import { BlockList, SocketAddress, isIP } from "node:net";

/** Parses `a.b.c.d/n` or `v6/n`; undefined when it is not a CIDR. A bare IP is a /32 or /128. */
export function parseCidr(text: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  const [address = "", prefixText, ...rest] = text.trim().split("/");
  if (rest.length > 0) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** An IP parsed once, to be tested against many CIDR sets (IPv4-mapped IPv6 is IPv4). */
export interface ParsedIp {
  /** IPv4 as an unsigned 32-bit number. */
  readonly v4: number | undefined;
  readonly address: SocketAddress;
}

/** Parses an IP address; undefined when it is not one. */
export function parseIp(ip: string): ParsedIp | undefined {
  const address = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip;
  const version = isIP(address);
  if (version === 0) return undefined;
  return { v4: version === 4 ? ipv4ToNumber(address) : undefined, address: new SocketAddress({ address, family: version === 4 ? "ipv4" : "ipv6" }) };
}

function ipv4ToNumber(address: string): number {
  let n = 0;
  for (const part of address.split(".")) n = n * 256 + Number(part);
  return n;
}

/**
 * A set of CIDRs an IP is tested against. IPv4 ranges are compared as numbers (a
 * searcher tests every asker against every cluster); IPv6 ones go to a BlockList.
 */
export class CidrSet {
  /** IPv4 ranges as [first, last] address numbers. */
  readonly #v4: Array<readonly [number, number]> = [];
  readonly #v6 = new BlockList();
  readonly #hasV6: boolean;
  readonly size: number;

  constructor(cidrs: Iterable<string>) {
    let size = 0;
    let v6 = false;
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) continue;
      if (cidr.family === "ipv4") {
        const span = 2 ** (32 - cidr.prefix);
        const first = Math.floor(ipv4ToNumber(cidr.address) / span) * span;
        this.#v4.push([first, first + span - 1]);
      } else {
        this.#v6.addSubnet(cidr.address, cidr.prefix, "ipv6");
        v6 = true;
      }
      size++;
    }
    this.#hasV6 = v6;
    this.size = size;
  }

  has(ip: string | ParsedIp): boolean {
    if (this.size === 0) return false;
    const parsed = typeof ip === "string" ? parseIp(ip) : ip;
    if (!parsed) return false;
    const n = parsed.v4;
    if (n !== undefined) for (const [first, last] of this.#v4) if (n >= first && n <= last) return true;
    // BlockList also matches IPv4 against IPv4-mapped IPv6 ranges.
    return this.#hasV6 && this.#v6.check(parsed.address);
  }
}
