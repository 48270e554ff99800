import { DfError } from "@df/interface/errors";

const MALFORMED = Symbol("df.rpc.malformed-request");

interface Malformed {
  readonly [MALFORMED]: unknown;
}

/**
 * Wraps a request decoder so that bytes it cannot decode reach the handler wrapper as a
 * marker instead of failing inside grpc-js, which would answer INTERNAL. A request that
 * does not parse is the caller's fault: the wrapper answers INVALID_ARGUMENT.
 */
export function tolerantDecoder<T>(decode: (bytes: Buffer) => T): (bytes: Buffer) => T | Malformed {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      return { [MALFORMED]: error };
    }
  };
}

/** Passes a decoded request through, or throws INVALID_ARGUMENT for a marker. */
export function checkRequest<T>(item: unknown, method: string): T {
  if (typeof item === "object" && item !== null && MALFORMED in item) {
    throw new DfError("INVALID_ARGUMENT", `${method}: the request message does not decode`, {
      reason: "malformed-request",
      cause: (item as Malformed)[MALFORMED],
      details: { method },
    });
  }
  return item as T;
}
