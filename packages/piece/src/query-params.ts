import { DfError } from "@df/interface/errors";

/**
 * Query parameters that carry request signatures and expiry times rather than identify
 * content: two presigned URLs of one object differ only in these, and must still map to
 * one task. The union of upstream's lists for S3, GCS, OSS, OBS, COS and containerd's
 * `ns` (which names the registry a mirror request was meant for), without duplicates.
 */
export const DEFAULT_FILTERED_QUERY_PARAMS: readonly string[] = Object.freeze([
  ...new Set([
    // S3
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
    // GCS
    "X-Goog-Algorithm",
    "X-Goog-Credential",
    "X-Goog-Date",
    "X-Goog-Expires",
    "X-Goog-SignedHeaders",
    "X-Goog-Signature",
    // OSS
    "OSSAccessKeyId",
    "Expires",
    "Signature",
    "SecurityToken",
    // OBS
    "AccessKeyId",
    "Signature",
    "Expires",
    "X-Obs-Date",
    "X-Obs-Security-Token",
    // COS
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
    "x-cos-security-token",
    // containerd
    "ns",
  ]),
]);

/**
 * The URL as it enters the task ID, canonicalised the way the current Rust client
 * (`dragonfly-client-util/src/url`) does it so that IDs agree with a Dragonfly v2 cluster:
 *
 * - An empty filter list leaves the URL byte-for-byte as given (upstream returns it
 *   unparsed); df still rejects a malformed URL.
 * - Otherwise the query is split on `&`, segments containing `;` are dropped, each pair
 *   is form-decoded, pairs whose key exactly matches a filtered name are removed, the
 *   rest are stably sorted by key (UTF-8 byte order; values of one key keep their order)
 *   and re-encoded like Go's `url.QueryEscape` (unreserved bytes kept, space as `+`,
 *   everything else `%XX`). This matches the Go scheduler's `url.Values.Encode()`.
 * - No pair left: the `?` goes too. The fragment is kept.
 * - WHATWG serialisation (which the Rust `url` crate follows) writes a bare host as
 *   `https://example.com/`; when the path is exactly `/`, trailing slashes of the
 *   serialised string are trimmed, so `https://example.com` and `https://example.com/`
 *   give the same ID. The §2.1 test vectors hash the string `https://example.com`.
 */
export function filterUrl(
  url: string,
  filteredQueryParams: readonly string[] = DEFAULT_FILTERED_QUERY_PARAMS,
): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `URL "${url}" is not valid; give an absolute URL such as https://host/path`,
      { cause: error, details: { url } },
    );
  }
  if (filteredQueryParams.length === 0) return url;

  const hidden = new Set(filteredQueryParams);
  const pairs: [string, string][] = [];
  for (const segment of parsed.search.slice(1).split("&")) {
    if (segment.includes(";")) continue;
    for (const [key, value] of new URLSearchParams(segment)) {
      if (!hidden.has(key)) pairs.push([key, value]);
    }
  }
  pairs.sort(([a], [b]) => compareUtf8(a, b));
  parsed.search = pairs.map(([key, value]) => `${queryEscape(key)}=${queryEscape(value)}`).join("&");

  const serialised = parsed.href;
  if (parsed.pathname === "/" && serialised.endsWith("/")) return serialised.replace(/\/+$/, "");
  return serialised;
}

function compareUtf8(a: string, b: string): number {
  // JS compares UTF-16 code units, which orders U+E000–U+FFFF after astral characters;
  // Rust and Go compare UTF-8 bytes.
  return a === b ? 0 : Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  );
}

/** Go's `url.QueryEscape`. */
export function queryEscape(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    if (isUnreserved(byte)) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
