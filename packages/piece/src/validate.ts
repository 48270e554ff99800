import { DfError } from "@df/interface/errors";

/**
 * Argument checks shared by the modules of this package. Lengths and offsets are plain
 * numbers, so anything past 2^53 − 1 would silently lose precision; every public entry
 * point therefore insists on safe integers before doing arithmetic.
 */

export function assertNonNegativeInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `${name} must be a non-negative safe integer, got ${String(value)}; pass a whole number of bytes between 0 and ${Number.MAX_SAFE_INTEGER}`,
      { details: { [name]: value } },
    );
  }
}

export function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `${name} must be a positive safe integer, got ${String(value)}`,
      { details: { [name]: value } },
    );
  }
}
