import { createHash } from "node:crypto";

/**
 * Request headers that carry a caller's credentials. A download that sends any of them
 * may fetch what others may not, so its task is shared only with callers that send the
 * same values (see privateScope).
 */
export const CREDENTIAL_HEADERS: readonly string[] = ["authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token", "private-token"];

export interface PrivateScopeInput {
  /** The request headers of the download, any case. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The whole-file digest the download is verified against, if any (`sha256:<hex>` …). */
  readonly digest?: string | undefined;
  /** Header names that count as credentials; CREDENTIAL_HEADERS when not given. */
  readonly credentialHeaders?: readonly string[];
}

/**
 * What scopes a task beyond its URL, or undefined for public content:
 * - no credential header: undefined, so the task ID is the upstream one and everyone
 *   who names the URL shares it;
 * - credentials and a digest: `digest:<digest>`. The bytes are checked against it, and
 *   only callers who know the digest name this task (as in a content-addressed
 *   registry), whatever their credentials;
 * - credentials alone: `credentials:<sha-256 of the credential headers>`, so only
 *   callers that send the same credentials share the task.
 */
export function privateScope(input: PrivateScopeInput): string | undefined {
  const names = new Set((input.credentialHeaders ?? CREDENTIAL_HEADERS).map((name) => name.toLowerCase()));
  const credentials: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    const key = name.toLowerCase();
    if (names.has(key)) credentials.push([key, value]);
  }
  if (credentials.length === 0) return undefined;
  if (input.digest) return `digest:${input.digest.toLowerCase()}`;
  credentials.sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1));
  const hash = createHash("sha256");
  // Length-prefixed, so no two different header sets hash the same input.
  for (const [name, value] of credentials) hash.update(`${name.length}:${name}${Buffer.byteLength(value)}:${value}`);
  return `credentials:${hash.digest("hex")}`;
}
