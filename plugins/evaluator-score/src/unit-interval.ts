/**
 * Clamps to [0, 1], mapping NaN to 0: every feature is a share of something, and a
 * share computed from inconsistent counters (more failures than uploads, load above the
 * limit, 0/0) must still be a valid score, never one that wins the sort.
 */
export function unitInterval(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(1, Math.max(0, value));
}
