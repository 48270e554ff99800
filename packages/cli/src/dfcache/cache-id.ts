import { taskId } from "@df/piece";

/**
 * The task ID rule for cache data (Dragonfly's dfcache v1 rule, on our v2 task ID):
 * a cid has no origin, so it is named by the synthetic URL `d7y:/` + the cid
 * percent-encoded (encodeURIComponent, so `sha256:ab/c d` → `d7y:/sha256%3Aab%2Fc%20d`),
 * and the task ID is the v2 ID of that URL with the tag and type PERSISTENT_CACHE:
 * SHA-256(url ‖ tag? ‖ "PERSISTENT_CACHE"). The same cid with another tag is another
 * task; the cid is never interpreted (any string, e.g. a sha256 of the content).
 */
export function cacheUrl(cid: string): string {
  return `d7y:/${encodeURIComponent(cid)}`;
}

export function cacheTaskId(cid: string, tag?: string): string {
  return taskId({ url: cacheUrl(cid), type: "PERSISTENT_CACHE", ...(tag ? { tag } : {}), filteredQueryParams: [] });
}
