/**
 * @packageDocumentation
 * The `static` traffic shaper: every task is held to a fixed `download.perPeerRateLimit`,
 * and the daemon caps the sum at `download.totalRateLimit` (the policy Dragonfly had
 * before its sampling shaper).
 *
 * ```yaml
 * # dfdaemon config
 * download:
 *   trafficShaperType: static
 *   perPeerRateLimit: 20Mi
 *   totalRateLimit: 100Mi
 * ```
 */
import { definePlugin } from "@df/interface";
import { shaperLimitsSchema } from "@df/interface/zod";
import { StaticShaper } from "./shaper.js";

export { StaticShaper, type StaticShaperOptions } from "./shaper.js";

export default definePlugin({
  kind: "shaper",
  name: "static",
  options: shaperLimitsSchema,
  create: (options) => new StaticShaper({ perPeerRateLimit: options.perPeerRateLimit }),
});
