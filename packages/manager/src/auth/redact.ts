/** What a secret value reads as for everyone but root. */
export const REDACTED = "<redacted>";

/**
 * A name that holds a credential: an HTTP header (`Authorization`, `Proxy-Authorization`,
 * `Cookie`, `X-Api-Key`, `X-Amz-Security-Token`), a JSON member, a URL query parameter
 * (`X-Amz-Signature`, Azure's `sig`) or a config's name. Deliberately broad: hiding an
 * `X-Author` header from a guest costs little, showing a token costs a lot. Migration
 * 0002 applied the same rule to existing configs; it keeps its own copy (migrations never
 * change), so a change here is for new rows only.
 */
const CREDENTIAL_NAME = /auth|cookie|token|secret|passw|pwd|key|credential|signature|session|^sig$/i;

export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** An http(s) URL without its password and credential-named query parameters; anything else as it is. */
export function redactUrlCredentials(text: string): string {
  if (!/^https?:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  // A token is often the user name alone (https://ghp_TOKEN@github.com/…).
  if (url.password || url.username) {
    if (url.username) url.username = "redacted";
    if (url.password) url.password = "redacted";
    changed = true;
  }
  for (const name of new Set(url.searchParams.keys())) {
    if (isCredentialName(name)) {
      url.searchParams.set(name, "redacted");
      changed = true;
    }
  }
  // Unchanged URLs stay byte for byte as stored (URL would normalise them).
  return changed ? url.toString() : text;
}

/** A flag or an empty value holds no credential, whatever its name (a config's `secret: true`). */
const holdsNothing = (value: unknown): boolean => typeof value === "boolean" || value === null || value === undefined;

/**
 * A copy of a JSON value with every credential-named member's value replaced by
 * `<redacted>` (a string, number, array or object alike) and credentials taken out of
 * URLs in strings.
 */
export function redactJson(value: unknown): unknown {
  if (typeof value === "string") return redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map(redactJson);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) out[key] = isCredentialName(key) && !holdsNothing(member) ? REDACTED : redactJson(member);
  return out;
}

/** A job as a non-root caller sees it: headers, credential-named arguments and URL credentials hidden. */
export function redactJob(item: unknown): unknown {
  if (!isRecord(item)) return item;
  return { ...item, args: redactJson(item["args"]), result: redactJson(item["result"]) };
}

/** A config as a non-root caller sees it: the value of a secret one hidden. */
export function redactConfig(item: unknown): unknown {
  if (!isRecord(item) || item["secret"] === false) return item;
  return { ...item, value: REDACTED };
}

/**
 * An audit row as a non-root caller sees it. A config's value is hidden unless the row
 * says the config was not secret (rows written before configs had the flag do not say),
 * and a failed sign-in's name is hidden when no such user exists: people type their
 * password into the name field.
 */
export function redactAudit(item: unknown): unknown {
  if (!isRecord(item)) return item;
  const details = redactJson(item["details"]);
  if (isRecord(details)) {
    if (item["resource"] === "configs" && "value" in details && details["secret"] !== false) details["value"] = REDACTED;
    if (item["action"] === "signin-failed" && details["known"] === false) details["name"] = REDACTED;
  }
  return { ...item, details };
}
