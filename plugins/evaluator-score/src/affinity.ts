/** Locations are compared over at most this many leading `|`-separated elements. */
export const MAX_LOCATION_ELEMENTS = 5;

/**
 * 1 when both hosts name the same IDC (case-insensitive), else 0. A missing or empty IDC
 * matches nothing: two hosts that do not know where they are are not thereby neighbours.
 */
export function idcAffinity(parentIdc: string | undefined, childIdc: string | undefined): number {
  if (!parentIdc || !childIdc) return 0;
  return parentIdc.toLowerCase() === childIdc.toLowerCase() ? 1 : 0;
}

/**
 * How close two `country|province|city|zone|cluster`-style locations are: 1 when equal
 * (case-insensitive), else the number of equal leading elements, compared over at most
 * five, divided by five. Missing or empty locations score 0.
 */
export function locationAffinity(parentLocation: string | undefined, childLocation: string | undefined): number {
  if (!parentLocation || !childLocation) return 0;
  const parent = parentLocation.toLowerCase();
  const child = childLocation.toLowerCase();
  if (parent === child) return 1;
  const a = parent.split("|");
  const b = child.split("|");
  const length = Math.min(a.length, b.length, MAX_LOCATION_ELEMENTS);
  let equal = 0;
  while (equal < length && a[equal] === b[equal]) equal++;
  return equal / MAX_LOCATION_ELEMENTS;
}
