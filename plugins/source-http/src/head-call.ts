import { type AbortOptions, throwIfAborted } from "@df/interface";
import type { ClientContext } from "./context.js";
import { redactUrl } from "./redact.js";
import { retryOnConnectionError } from "./retry.js";
import { RequestScope } from "./scope.js";
import { parseSourceUrl } from "./url.js";

/**
 * Runs `once` (the requests of a stat or a revalidation) for `request.url` within one
 * scope (the caller's signal and the request's timeoutMs), again on connection failures
 * up to statRetries; `what` names it in logs and abort errors.
 */
export async function withHeadScope<T>(
  context: ClientContext,
  request: { url: string; timeoutMs?: number },
  options: AbortOptions,
  what: string,
  once: (url: URL, scope: RequestScope) => Promise<T>,
): Promise<T> {
  const url = parseSourceUrl(request.url, context.schemes);
  throwIfAborted(options.signal);
  const scope = new RequestScope(options.signal, request.timeoutMs);
  try {
    return await retryOnConnectionError(
      context.statRetries,
      scope,
      () => once(url, scope),
      (error, attempt) => context.logger.debug(`${what} failed to connect; retrying`, { url: redactUrl(url), attempt, error: String(error) }),
    );
  } catch (error) {
    throw scope.abortError(`${what} ${redactUrl(url)}`, error) ?? error;
  } finally {
    scope.dispose();
  }
}
