import { DfError, isDfError, type SourceResponse } from "@df/interface";
import { describe, transportError } from "./errors.js";
import { abandon, type Exchange } from "./exchange.js";
import type { RequestScope } from "./scope.js";

/**
 * Header key under which responses and stats carry the URL that finally answered,
 * set only when the origin redirected. It may hold a signed URL: never log it.
 */
export const FINAL_URL_HEADER = "x-df-final-url";

/**
 * Wraps an accepted answer as a SourceResponse whose body yields undici's chunks as
 * they come (no copy, no read-ahead beyond undici's own buffer) and counts them, so a
 * body that ends short of `expected` or runs past it is a DATA_LOSS error rather than
 * a quietly wrong file.
 */
export function streamingResponse(answer: Exchange, expected: number | undefined, scope: RequestScope): SourceResponse {
  const { body, attempt } = answer;
  const what = describe(attempt);
  let cancelled = false;
  let received = 0;

  // An abort or cancel explains whatever error it caused, so it is asked first.
  const fail = (error: unknown): DfError => {
    if (cancelled) {
      return new DfError("CANCELLED", `${what}: the response was cancelled`, { reason: "response-cancelled", cause: error });
    }
    if (isDfError(error) && !scope.aborted) return error;
    return transportError(error, { attempt, scope, body: { received, expected } });
  };

  async function* read(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (expected !== undefined && received > expected) {
          throw new DfError("DATA_LOSS", `${what}: the origin sent more than the ${expected} bytes it promised`, {
            reason: "overlong",
            details: { ...attempt, status: answer.status, received, expected },
          });
        }
        yield chunk;
      }
      if (expected !== undefined && received < expected) {
        throw new DfError("DATA_LOSS", `${what}: the body ended after ${received} of ${expected} bytes`, {
          reason: "truncated",
          details: { ...attempt, status: answer.status, received, expected },
        });
      }
    } catch (error) {
      throw fail(error);
    } finally {
      // Reached early when the consumer stops iterating: the rest is not wanted.
      abandon(body);
      scope.dispose();
    }
  }

  const header = answer.redirected ? { ...answer.headers, [FINAL_URL_HEADER]: answer.url.href } : answer.headers;
  return {
    status: answer.status,
    header,
    ...(expected === undefined ? {} : { contentLength: expected }),
    body: read(),
    cancel: async () => {
      if (cancelled) return;
      cancelled = true;
      scope.dispose();
      abandon(body);
    },
  };
}
