import { isDfError, type DfError } from "@df/interface/errors";

/** Runs `fn`, which must throw a DfError, and returns it for assertions. */
export function thrown(fn: () => unknown): DfError {
  try {
    fn();
  } catch (error) {
    if (isDfError(error)) return error;
    throw new Error(`expected a DfError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected a DfError, but nothing was thrown");
}
