import { BlockList, isIP } from "node:net";
import { DfError } from "@df/interface";

/**
 * Open connections per remote address, so one host cannot take every socket and upload
 * slot of the piece server. Exempt addresses and subnets are not counted.
 */
export class AddressCap {
  readonly limit: number;
  readonly #open = new Map<string, number>();
  readonly #exempt: BlockList;

  /** `limit` 0: no cap. `exempt`: addresses or subnets (`10.0.0.0/8`, `::1`). */
  constructor(limit: number, exempt: readonly string[] = []) {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new DfError("INVALID_ARGUMENT", `the connection cap per address must be a whole number, 0 for none, got ${String(limit)}`);
    }
    this.limit = limit;
    this.#exempt = exemptList(exempt);
  }

  /**
   * Counts a new connection from `address`, or refuses it (false) when that address
   * already holds `limit`. An admitted connection is given back with `release`.
   */
  admit(address: string | undefined): boolean {
    if (this.limit === 0 || address === undefined) return true;
    const key = unmapped(address);
    if (this.#isExempt(key)) return true;
    const open = this.#open.get(key) ?? 0;
    if (open >= this.limit) return false;
    this.#open.set(key, open + 1);
    return true;
  }

  release(address: string | undefined): void {
    if (this.limit === 0 || address === undefined) return;
    const key = unmapped(address);
    const open = this.#open.get(key);
    if (open === undefined) return;
    if (open <= 1) this.#open.delete(key);
    else this.#open.set(key, open - 1);
  }

  /** Addresses holding connections now (exempt ones are not counted). */
  get addresses(): number {
    return this.#open.size;
  }

  #isExempt(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.#exempt.check(address, family === 6 ? "ipv6" : "ipv4");
  }
}

/** Why `entry` is not an address or subnet, or undefined when it is one. */
export function exemptEntryProblem(entry: string): string | undefined {
  const [address = "", bits, extra] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `${entry} is not an IP address or subnet (address/bits)`;
  if (bits === undefined) return undefined;
  const prefix = Number(bits);
  const max = family === 6 ? 128 : 32;
  if (!/^\d+$/.test(bits) || prefix > max) return `${entry}: the prefix length must be 0 to ${max}`;
  return undefined;
}

function exemptList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const problem = exemptEntryProblem(entry);
    if (problem) throw new DfError("INVALID_ARGUMENT", problem);
    const [address = "", bits] = entry.split("/");
    const type = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`: counted as `a.b.c.d`. */
function unmapped(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
