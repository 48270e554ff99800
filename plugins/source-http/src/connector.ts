import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
import { buildConnector } from "undici";
import { DestinationPolicy } from "./destinations.js";

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * undici's connector with the destination policy in front: an IP literal is checked
 * before connecting; a name is resolved by a lookup that keeps only allowed answers, and
 * the socket connects to one of those, so the address checked is the address used.
 */
export function guardedConnector(options: buildConnector.BuildOptions, policy: DestinationPolicy): buildConnector.connector {
  const lookup = (hostname: string, lookupOptions: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, answers) => {
      if (error) return callback(error, []);
      const usable = policy.allowsName(hostname) ? answers : answers.filter((answer) => policy.refusal(answer.address) === undefined);
      const first = usable[0];
      if (!first) {
        const refused = answers[0];
        const kind = refused ? (policy.refusal(refused.address) ?? "refused") : "refused";
        return callback(DestinationPolicy.refused(hostname, refused?.address ?? hostname, kind), []);
      }
      if (lookupOptions.all) callback(null, usable);
      else callback(null, first.address, first.family);
    });
  };
  const connect = buildConnector({ ...options, lookup });
  return (target, callback) => {
    const { hostname } = target;
    if (isIP(hostname) !== 0 && !policy.allowsName(hostname)) {
      const kind = policy.refusal(hostname);
      if (kind !== undefined) {
        callback(DestinationPolicy.refused(hostname, hostname, kind), null);
        return;
      }
    }
    connect(target, callback);
  };
}
