/**
 * @packageDocumentation
 * Bandwidth limits for df: a token bucket that stays accurate from a few KiB/s to GiB/s
 * with one timer and a live-adjustable rate, and a timer-free per-second usage meter.
 * Traffic-shaper plugins and the daemon (total and upload limits) build on these.
 */
export { TokenBucket, type TokenBucketOptions } from "./token-bucket.js";
export { UsageMeter } from "./usage-meter.js";
export { TaskShaper, type ShapedTaskState } from "./task-shaper.js";
