import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { DfError } from "@df/interface";
import { Agent } from "undici";
import { guardedConnector } from "./connector.js";
import { DestinationPolicy } from "./destinations.js";
import type { HttpSourceOptions } from "./options.js";

/**
 * One undici Agent per client: a pool of kept-alive connections per origin, shared by
 * every stat and get, with the timeouts of the options applied to each request.
 */
export function createAgent(options: HttpSourceOptions): Agent {
  return new Agent({
    connections: options.connectionsPerOrigin,
    // undici wants whole milliseconds; config may say 1.5ms.
    keepAliveTimeout: Math.ceil(options.keepAliveTimeout),
    headersTimeout: Math.ceil(options.headerTimeout),
    bodyTimeout: Math.ceil(options.bodyIdleTimeout),
    connect: guardedConnector(
      {
        timeout: Math.ceil(options.connectTimeout),
        rejectUnauthorized: !options.tls.insecure,
        ...(options.tls.caFile === undefined ? {} : { ca: [...rootCertificates, readCa(options.tls.caFile)] }),
      },
      new DestinationPolicy(options.destinations),
    ),
  });
}

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new DfError("INVALID_ARGUMENT", `tls.caFile: cannot read ${path}: ${(error as Error).message}`, {
      reason: "invalid-ca-file",
      details: { path },
      cause: error,
    });
  }
}
