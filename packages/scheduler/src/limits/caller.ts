import { isIP } from "node:net";
import { callerIp } from "../service/preheat-gate.js";

/**
 * Who is calling, as far as an interim rule without mTLS can tell: the source IP of the
 * connection (IPv4-mapped IPv6 folded to IPv4, so a dual-stack listener sees one caller
 * as one address). Loopback addresses stay distinct (127.0.0.1 is not 127.0.0.2 nor
 * ::1). A caller over a unix socket has no IP; all of them share the peer string.
 */
export function callerAddress(peer: string | undefined): string {
  if (!peer) return "unknown";
  return callerIp(peer) ?? peer;
}

/**
 * The key a caller's announces are counted under: its IPv4 address, or its IPv6 /64
 * (one host may hold a whole /64 and pick a new source address per connection).
 */
export function rateKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = "", tail = ""] = address.split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
