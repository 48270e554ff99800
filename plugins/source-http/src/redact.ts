/**
 * Query parameters that carry credentials in signed URLs (S3 `X-Amz-Signature` and
 * `X-Amz-Credential`, GCS `X-Goog-Signature`, Azure SAS `sig`, OAuth `access_token`,
 * `api_key`, …). Matching by substring over-redacts a few harmless names; a log line
 * with one parameter too many hidden costs less than a leaked signature.
 */
const SECRET_PARAM = /sig|token|secret|passw|pwd|credential|auth|key/i;

export const REDACTED = "REDACTED";

/**
 * A URL fit for error messages and logs: userinfo and the values of signing or token
 * query parameters replaced, the fragment dropped. Other parameters keep their exact
 * spelling, so the message still shows which object was asked for.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactUnparsed(String(url));
  }
  const userinfo = parsed.username !== "" || parsed.password !== "" ? `${REDACTED}@` : "";
  const query = parsed.search === "" ? "" : `?${redactQuery(parsed.search.slice(1))}`;
  return `${parsed.protocol}//${userinfo}${parsed.host}${parsed.pathname}${query}`;
}

function redactQuery(query: string): string {
  return query
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const name = equals === -1 ? pair : pair.slice(0, equals);
      return equals !== -1 && SECRET_PARAM.test(safeDecode(name)) ? `${name}=${REDACTED}` : pair;
    })
    .join("&");
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/** Best effort for text that is not a URL at all: hide anything that looks like userinfo or a query. */
function redactUnparsed(text: string): string {
  return text
    .replace(/\/\/[^/?#@\s]*@/g, `//${REDACTED}@`)
    .replace(/\?[^#\s]*/g, `?${REDACTED}`)
    .replace(/#.*/, "");
}
