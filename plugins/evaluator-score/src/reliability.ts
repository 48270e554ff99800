import type { HostView } from "@df/interface";
import { unitInterval } from "./unit-interval.js";

/**
 * The parent host's upload success rate, in [0, 1]: `(uploads − failed) / uploads`.
 * A host that never uploaded scores 1, so new hosts get tried rather than starved; one
 * with more failures than uploads (counters reset apart) scores 0.
 */
export function uploadSuccessScore(host: Pick<HostView, "uploadCount" | "uploadFailedCount">): number {
  const { uploadCount, uploadFailedCount } = host;
  if (uploadFailedCount > uploadCount) return 0;
  if (uploadCount <= 0) return 1;
  return unitInterval((uploadCount - uploadFailedCount) / uploadCount);
}
