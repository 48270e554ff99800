/**
 * @packageDocumentation
 * The `http` source plugin of df: back-to-source for `http` and `https` URLs, over one
 * pooled, kept-alive undici Agent per client.
 *
 * - `stat` sends HEAD, then a `Range: bytes=0-0` GET. `supportsRange` is true only when
 *   that probe is answered 206 with a Content-Range for byte 0; `Accept-Ranges` alone is
 *   not trusted. The probe is skipped for an empty resource or `Accept-Ranges: none`.
 *   When HEAD is refused (405, 501) or rejected for a GET-only signed URL (400, 403),
 *   the probe alone answers. Stat is retried on connection failures (`statRetries`).
 * - `validators` (revalidation) sends one HEAD with If-None-Match / If-Modified-Since
 *   from the validators the caller holds: a 304 gives those back, a 2xx the ETag,
 *   Last-Modified and Content-Length it carries. Only a refused HEAD (as for stat) costs
 *   a second, ranged GET.
 * - `get` streams the body as it arrives. With a `range` it sends `Range: bytes=s-e`
 *   and requires 206 with exactly that Content-Range; a 200 is accepted only when the
 *   range is the whole resource (otherwise FAILED_PRECONDITION, reason `range-ignored`).
 *   The byte count is checked against the promised length (DATA_LOSS when short or long).
 *   Caller headers pass through except connection-level ones and `Range` (use `range`).
 * - Redirects are followed up to `maxRedirects`; a loop fails at once. Credentials
 *   (Authorization, Cookie, Host) are dropped once the chain leaves the first origin.
 *   When redirected, responses and stats carry the final URL under `x-df-final-url`
 *   (`FINAL_URL_HEADER`); it may be a signed URL, so it is never logged.
 * - Every stage (connect, headers, redirects, body, stat retry pauses) honours the
 *   caller's AbortSignal and the request's `timeoutMs`. `cancel()` destroys the body and
 *   its connection; reading a body to the end returns the connection to the pool.
 * - Origins on loopback, private, link-local (cloud metadata), shared, multicast and
 *   reserved addresses are refused (PERMISSION_DENIED, reason `destination-refused`)
 *   unless `destinations.allow` names them: checked on every hop of a redirect chain,
 *   on the address DNS answered, which is the address the connection then uses.
 *   Caller headers that would change routing (`Host`, and those `Connection` names) are
 *   not forwarded.
 * - URL userinfo becomes Basic auth. Error messages show URLs with userinfo and signing
 *   or token query parameters redacted.
 *
 * Errors (DfError, `details` with method, redacted url and status): 404/410 NOT_FOUND;
 * 401/403/407 PERMISSION_DENIED; 416 OUT_OF_RANGE; 400 and a malformed URL or a scheme
 * other than http/https INVALID_ARGUMENT; 429 RESOURCE_EXHAUSTED; 408, 5xx and connection
 * failures UNAVAILABLE (reason `connection` for the latter); connect, header and body
 * idle timeouts and the request's `timeoutMs` DEADLINE_EXCEEDED; aborts CANCELLED; a body
 * cut short or overlong DATA_LOSS; a redirect loop, too many redirects, an ignored or
 * mismatched range, other statuses and TLS failures FAILED_PRECONDITION.
 *
 * Options (all optional):
 *
 * | option | default | meaning |
 * | --- | --- | --- |
 * | `connectTimeout` | `10s` | open a TCP/TLS connection |
 * | `headerTimeout` | `30s` | from request sent to complete response headers (`0`: off) |
 * | `bodyIdleTimeout` | `30s` | longest silence within a body (`0`: off) |
 * | `keepAliveTimeout` | `30s` | idle kept-alive connection lifetime |
 * | `connectionsPerOrigin` | `16` | pooled connections per origin |
 * | `maxRedirects` | `10` | redirects followed (`0`: none) |
 * | `userAgent` | `df/<version>` | unless the request sets one |
 * | `statRetries` | `2` | extra stat tries after a connection failure |
 * | `destinations.allow` | `[]` | host names (`*.corp.example`), addresses or CIDR ranges reachable despite being loopback, private, link-local… |
 * | `tls.insecure` | `false` | accept any certificate (tests only) |
 * | `tls.caFile` | — | PEM CAs trusted besides Node's roots |
 *
 * A source entry in a service's config (`[http, {...}]` works too):
 *
 * ```yaml
 * sources:
 *   - name: http
 *     options:
 *       connectTimeout: 5s
 *       headerTimeout: 30s
 *       bodyIdleTimeout: 1m
 *       connectionsPerOrigin: 32
 *       maxRedirects: 5
 *       userAgent: df/0.1.0 (+https://example.com/df)
 *       destinations:
 *         allow: [minio.internal, 10.20.0.0/16]
 *       tls:
 *         caFile: /etc/df/ca.pem
 * ```
 */
import { definePlugin } from "@df/interface";
import { HttpSourceClient } from "./client.js";
import { type HttpSourceOptions, httpSourceOptionsSchema } from "./options.js";

export { HttpSourceClient, createHttpSource } from "./client.js";
export { httpSourceOptionsSchema, type HttpSourceOptions, type HttpSourceOptionsInput } from "./options.js";
export { FINAL_URL_HEADER } from "./body.js";
export { redactUrl } from "./redact.js";
export { DEFAULT_USER_AGENT } from "./version.js";

export default definePlugin<"source", HttpSourceOptions>({
  kind: "source",
  name: "http",
  options: httpSourceOptionsSchema,
  create: (options, context) => new HttpSourceClient(options, context.logger),
});
