import type { SigmaOptions } from "./options.js";
import { RunningStats } from "./welford.js";

export type CostRule = Pick<
  SigmaOptions,
  "k" | "minSamples" | "normalDistributionSamples" | "fewSamplesMultiplier" | "window" | "resolutionMs"
>;

/** How a cost history was judged, with the numbers, for logs and tests. */
export type CostVerdict =
  | { readonly bad: false; readonly rule: "too-few-samples"; readonly samples: number }
  | {
      readonly bad: boolean;
      readonly rule: "mean-multiple" | "sigma";
      readonly samples: number;
      readonly last: number;
      readonly mean: number;
      /** Population σ of the earlier costs (0 under the mean-multiple rule). */
      readonly sigma: number;
      readonly threshold: number;
    };

/**
 * A recorded cost that can be a duration: finite and not negative. Anything else (NaN
 * from a bad report, a negative value from a clock stepping back, Infinity) is dropped
 * as if it had never been recorded, rather than poisoning the mean or posing as the
 * newest cost.
 */
const isCost = (value: number | undefined): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0;

/**
 * Judges a parent by its own piece costs (ms, oldest first), reference §4.4:
 *
 * - look at the newest `window` recorded costs, drop the invalid ones;
 * - fewer than `minSamples` left → not bad (nothing to compare with);
 * - `last` = the newest, mean and σ over the earlier ones (Welford, population σ);
 * - fewer than `normalDistributionSamples` earlier costs → bad iff
 *   `last > fewSamplesMultiplier × max(mean, resolutionMs)`;
 * - otherwise → bad iff `last > mean + k × max(σ, resolutionMs)`.
 *
 * The `resolutionMs` floors are the guards against arithmetic noise: with a mean of 0
 * (pieces served faster than the clock ticks) any positive cost would be "more than 20×
 * the mean", and with σ = 0 (identical costs, typical of a coarse clock) a cost one tick
 * above the mean would be "beyond k·σ". Overflow needs no guard of its own: it can only
 * push a threshold to Infinity, and nothing is greater than Infinity, so a history of
 * absurd values is never judged bad.
 */
export function judgePieceCosts(costs: readonly number[], rule: CostRule): CostVerdict {
  const from = Math.max(0, costs.length - rule.window);
  let lastIndex = costs.length - 1;
  while (lastIndex >= from && !isCost(costs[lastIndex])) lastIndex--;
  if (lastIndex < from) return { bad: false, rule: "too-few-samples", samples: 0 };

  const earlier = new RunningStats();
  for (let i = from; i < lastIndex; i++) {
    const cost = costs[i];
    if (isCost(cost)) earlier.push(cost);
  }
  const samples = earlier.count + 1;
  if (samples < rule.minSamples) return { bad: false, rule: "too-few-samples", samples };

  const last = costs[lastIndex]!;
  const mean = earlier.mean;
  if (earlier.count < rule.normalDistributionSamples) {
    const threshold = rule.fewSamplesMultiplier * Math.max(mean, rule.resolutionMs);
    return { bad: last > threshold, rule: "mean-multiple", samples, last, mean, sigma: 0, threshold };
  }
  const sigma = earlier.standardDeviation;
  const threshold = mean + rule.k * Math.max(sigma, rule.resolutionMs);
  return { bad: last > threshold, rule: "sigma", samples, last, mean, sigma, threshold };
}
