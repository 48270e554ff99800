/**
 * Headers a caller may not pass through: connection management belongs to the agent;
 * `host` would route the request to another virtual host than the URL names (the task
 * ID is the URL's); and the byte range is the `range` field of a get, not a header, so
 * that what is asked of the origin and what the client checks the answer against
 * cannot disagree.
 */
const NOT_PASSED = new Set([
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "upgrade",
  "expect",
  "content-length",
  "range",
]);

/** Dropped once a redirect leaves the origin first asked, as browsers and curl do. */
const ORIGIN_BOUND = new Set(["authorization", "proxy-authorization", "cookie"]);

export interface HopHeaderOptions {
  readonly userAgent: string;
  /** True once the redirect chain has left the origin of the URL the caller gave. */
  readonly leftOrigin: boolean;
  /** `bytes=start-end`, when asking for a range. */
  readonly range?: string;
}

/** The headers of one request of a (possibly redirected) exchange. */
export function hopHeaders(
  caller: Readonly<Record<string, string>> | undefined,
  url: URL,
  options: HopHeaderOptions,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const hopByHop = namedInConnection(caller);
  for (const [name, value] of Object.entries(caller ?? {})) {
    const key = name.toLowerCase();
    if (NOT_PASSED.has(key) || hopByHop.has(key) || (options.leftOrigin && ORIGIN_BOUND.has(key))) continue;
    headers[key] = value;
  }
  // undici ignores userinfo in a URL; curl and browsers turn it into Basic auth.
  if ((url.username !== "" || url.password !== "") && headers.authorization === undefined) {
    const credentials = `${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  }
  headers["user-agent"] ??= options.userAgent;
  if (options.range !== undefined) headers.range = options.range;
  return headers;
}

/** Response headers as one string per lower-case name; repeated headers joined with ", ". */
export function flattenHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

/** Headers the caller's `Connection` header names are hop-by-hop (RFC 9110 §7.6.1): never forwarded. */
function namedInConnection(caller: Readonly<Record<string, string>> | undefined): Set<string> {
  const named = new Set<string>();
  for (const [name, value] of Object.entries(caller ?? {})) {
    if (name.toLowerCase() !== "connection") continue;
    for (const token of value.split(",")) if (token.trim() !== "") named.add(token.trim().toLowerCase());
  }
  return named;
}

function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
