import { SizeScope } from "./gen/df/common/v1/common.js";

/** A task's size class by name, as @df/piece's `sizeScope` and the scheduler's tasks give it. */
export type SizeScopeName = "EMPTY" | "TINY" | "SMALL" | "NORMAL" | "UNKNOWN";

const SIZE_SCOPES: Readonly<Record<SizeScopeName, SizeScope>> = {
  EMPTY: SizeScope.EMPTY,
  TINY: SizeScope.TINY,
  SMALL: SizeScope.SMALL,
  NORMAL: SizeScope.NORMAL,
  UNKNOWN: SizeScope.UNSPECIFIED,
};

/** The wire value of a size class (UNKNOWN is UNSPECIFIED on the wire). */
export function sizeScopeToProto(scope: SizeScopeName): SizeScope {
  return SIZE_SCOPES[scope];
}
