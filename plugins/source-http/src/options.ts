import { duration } from "@df/interface/zod";
import { z } from "zod";
import { parseAllowEntry } from "./destinations.js";
import { DEFAULT_USER_AGENT } from "./version.js";

/** Options of the `http` source plugin; every field has a default. */
export const httpSourceOptionsSchema = z
  .strictObject({
    /** Time to open a TCP (and TLS) connection. */
    connectTimeout: duration("10s").refine((ms) => ms > 0, "must be more than 0"),
    /** Time from sending a request to having the complete response headers; 0 turns it off. */
    headerTimeout: duration("30s"),
    /** Longest silence allowed between two pieces of a body; 0 turns it off. */
    bodyIdleTimeout: duration("30s"),
    /** How long an idle kept-alive connection stays open (an origin's Keep-Alive hint may shorten it). */
    keepAliveTimeout: duration("30s").refine((ms) => ms > 0, "must be more than 0"),
    /** Connections kept per origin (scheme, host, port); concurrent requests beyond it queue. */
    connectionsPerOrigin: z.number().int().min(1).max(1024).default(16),
    /** Redirects followed before giving up; 0 refuses any redirect. */
    maxRedirects: z.number().int().min(0).max(50).default(10),
    /** Sent unless the request carries its own User-Agent. */
    userAgent: z.string().min(1).default(DEFAULT_USER_AGENT),
    /** Extra tries of a stat whose connection failed (reset, refused) before any answer. */
    statRetries: z.number().int().min(0).max(5).default(2),
    /**
     * Origins on loopback, private, link-local (cloud metadata), shared, multicast and
     * reserved addresses are refused unless listed here: host names (`minio.internal`,
     * `*.corp.example`), addresses or CIDR ranges (`10.1.0.0/16`, `::1`).
     */
    destinations: z
      .strictObject({
        allow: z
          .array(z.string().refine((entry) => parseAllowEntry(entry) !== undefined, "must be a host name, an IP address or a CIDR range"))
          .max(1024)
          .default([]),
      })
      .prefault({}),
    tls: z
      .strictObject({
        /** Accept any certificate. For tests against self-signed origins only. */
        insecure: z.boolean().default(false),
        /** A PEM file of CA certificates trusted in addition to Node's built-in roots. */
        caFile: z.string().min(1).optional(),
      })
      .prefault({}),
  })
  .prefault({});

/** Options as written in config (durations as `30s` or ms). */
export type HttpSourceOptionsInput = z.input<typeof httpSourceOptionsSchema>;
/** Options after validation: durations in ms, defaults filled. */
export type HttpSourceOptions = z.output<typeof httpSourceOptionsSchema>;
