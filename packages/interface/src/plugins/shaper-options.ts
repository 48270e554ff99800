import { z } from "zod";
import { byteSize } from "../units-zod.js";

const positiveRate = (fallback: string) => byteSize(fallback, { min: 1, max: "1Ti" });

/**
 * The options every shaper plugin accepts: the limits of `ShaperLimits`, in bytes per
 * second or familiar units (`1024Mi`, `20M`), with upstream's defaults. Plugins extend
 * it with their own keys; the daemon fills both from its `download` config.
 */
export const shaperLimitsSchema = z.object({
  totalRateLimit: positiveRate("1024Mi"),
  perPeerRateLimit: positiveRate("512Mi"),
});
