/**
 * @packageDocumentation
 * The `plain` traffic shaper: no per-task shaping. Every task may use the node's whole
 * `download.totalRateLimit`, first come, first served; the shaper only records usage.
 *
 * ```yaml
 * # dfdaemon config
 * download:
 *   trafficShaperType: plain
 *   totalRateLimit: 1024Mi
 * ```
 */
import { definePlugin } from "@df/interface";
import { shaperLimitsSchema } from "@df/interface/zod";
import { PlainShaper } from "./shaper.js";

export { PlainShaper } from "./shaper.js";

export default definePlugin({
  kind: "shaper",
  name: "plain",
  options: shaperLimitsSchema,
  create: () => new PlainShaper(),
});
