import type { InjectionToken } from "tsyringe";
import type { Logger } from "./logger.js";
import type { Evaluator } from "./plugins/evaluator.js";
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
 * DI tokens for the interfaces df components share across services. Classes are their
 * own tokens; interfaces need a symbol; a service's own config and parts have tokens in
 * that service (DaemonTokens, SchedulerTokens, ManagerTokens). Every constructor parameter names its token with
 * `@inject(Tokens.X)`, so nothing depends on emitted type metadata.
 */
export const Tokens = {
  Logger: Symbol("df.Logger") as InjectionToken<Logger>,
  Clock: Symbol("df.Clock") as InjectionToken<Clock>,
  /** Evaluators in the order config lists them (filters first, then the scorer). */
  Evaluators: Symbol("df.Evaluators") as InjectionToken<readonly Evaluator[]>,
  SourceRegistry: Symbol("df.SourceRegistry") as InjectionToken<SourceRegistry>,
} as const;
