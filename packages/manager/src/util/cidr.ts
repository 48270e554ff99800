import { BlockList, isIP } from "node:net";

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

/** A set of CIDRs an IP is tested against (IPv4-mapped IPv6 addresses match IPv4 ranges). */
export class CidrSet {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(cidrs: Iterable<string>) {
    let size = 0;
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) continue;
      this.#list.addSubnet(cidr.address, cidr.prefix, cidr.family);
      size++;
    }
    this.size = size;
  }

  has(ip: string): boolean {
    if (this.size === 0) return false;
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    const address = v4 ?? ip;
    const version = isIP(address);
    if (version === 0) return false;
    return this.#list.check(address, version === 4 ? "ipv4" : "ipv6");
  }
}
