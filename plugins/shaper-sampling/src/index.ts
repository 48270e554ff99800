/**
 * @packageDocumentation
 * The `sampling` traffic shaper: every second the node's `download.totalRateLimit` is
 * re-divided among its running tasks by what each used during the last second. One
 * task alone gets all of it; a new task starts at the average; a finished task's share
 * goes back to the others; every task keeps at least one piece per second.
 *
 * Options: the shared limits, plus `intervalMs` (default 1000) and `saturatedShare`
 * (default 0.5: a task whose limiter held pieces back for half an interval wants more).
 *
 * ```yaml
 * # dfdaemon config
 * download:
 *   trafficShaperType: sampling
 *   totalRateLimit: 100Mi
 * ```
 */
import { definePlugin } from "@df/interface";
import { shaperLimitsSchema } from "@df/interface/zod";
import { z } from "zod";
import { SamplingShaper } from "./shaper.js";

export { admitTask, divideTotal, releaseTask, type TaskRate, type TaskSample } from "./divide.js";
export { SamplingShaper, type SamplingShaperOptions } from "./shaper.js";

export const samplingOptionsSchema = shaperLimitsSchema.extend({
  intervalMs: z.number().int().min(10).max(60_000).default(1000),
  saturatedShare: z.number().gt(0).max(1).default(0.5),
});

export default definePlugin({
  kind: "shaper",
  name: "sampling",
  options: samplingOptionsSchema,
  create: (options) =>
    new SamplingShaper({ totalRateLimit: options.totalRateLimit, intervalMs: options.intervalMs, saturatedShare: options.saturatedShare }),
});
