import { DfError } from "@df/interface";
import { redactUrl } from "./redact.js";

/**
 * Parses the URL of a request, accepting only what this client serves. The parser's
 * own error is not kept as `cause`: Node puts the whole input, credentials and all, on it.
 */
export function parseSourceUrl(raw: unknown, schemes: readonly string[]): URL {
  if (typeof raw !== "string" || raw.trim() === "") {
    throw new DfError("INVALID_ARGUMENT", "the request has no URL", { reason: "invalid-url" });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    const shown = redactUrl(raw);
    throw new DfError("INVALID_ARGUMENT", `"${shown}" is not a valid URL`, {
      reason: "invalid-url",
      details: { url: shown },
    });
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!schemes.includes(scheme)) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `${redactUrl(url)}: the http source serves ${schemes.join(" and ")} URLs, not ${scheme}`,
      { reason: "unsupported-scheme", details: { url: redactUrl(url), scheme } },
    );
  }
  return url;
}
