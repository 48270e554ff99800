import type { InjectionToken } from "tsyringe";
import type { Logger } from "./logger.js";
import type { Evaluator } from "./plugins/evaluator.js";
import type { TrafficShaper } from "./plugins/shaper.js";
import type { SourceClient } from "./plugins/source.js";

/** Time, injectable so that TTLs and timeouts can be tested without waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Source clients by URL scheme; built from the `source` plugins in config. */
export interface SourceRegistry {
  /** The client for a URL, or an INVALID_ARGUMENT DfError naming the scheme and the known ones. */
  forUrl(url: string): SourceClient;
  schemes(): readonly string[];
}

/**
 * DI tokens for the interfaces df components depend on. Classes are their own tokens;
 * interfaces need a symbol. Every constructor parameter names its token with
 * `@inject(Tokens.X)`, so nothing depends on emitted type metadata.
 */
export const Tokens = {
  Logger: Symbol("df.Logger") as InjectionToken<Logger>,
  Clock: Symbol("df.Clock") as InjectionToken<Clock>,
  /** The validated config object of the service that owns the container. */
  Config: Symbol("df.Config") as InjectionToken<unknown>,
  /** Evaluators in the order config lists them (filters first, then the scorer). */
  Evaluators: Symbol("df.Evaluators") as InjectionToken<readonly Evaluator[]>,
  TrafficShaper: Symbol("df.TrafficShaper") as InjectionToken<TrafficShaper>,
  SourceRegistry: Symbol("df.SourceRegistry") as InjectionToken<SourceRegistry>,
} as const;
