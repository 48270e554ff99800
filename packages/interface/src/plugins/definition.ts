import type { Logger } from "../logger.js";
import type { StandardSchemaV1 } from "../standard-schema.js";
import type { Evaluator } from "./evaluator.js";
import type { TrafficShaper } from "./shaper.js";
import type { SourceClient } from "./source.js";

/** The kinds of plugin df knows, and the instance each one makes. */
export interface PluginKinds {
  evaluator: Evaluator;
  shaper: TrafficShaper;
  source: SourceClient;
}

export type PluginKind = keyof PluginKinds;

/** What a plugin's factory receives besides its own options. */
export interface PluginContext {
  /** A logger already named for this plugin. */
  readonly logger: Logger;
  /** The dotted config key the plugin was chosen by, for error messages. */
  readonly key: string;
}

export const pluginSymbol: unique symbol = Symbol.for("@df/plugin") as never;

/**
 * A plugin package's default export: what it is, its name, how to check its options,
 * and the factory. Build one with `definePlugin`.
 */
export interface PluginDefinition<K extends PluginKind = PluginKind, Options = unknown> {
  readonly [pluginSymbol]: true;
  readonly kind: K;
  readonly name: string;
  /** Validates (and fills defaults in) the options given in config. */
  readonly options?: StandardSchemaV1<unknown, Options>;
  create(options: Options, context: PluginContext): PluginKinds[K] | Promise<PluginKinds[K]>;
}

/** A definition whose options type is not known here (built-ins, loaded modules). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- options are checked by the plugin's own schema at runtime
export type AnyPluginDefinition<K extends PluginKind = PluginKind> = PluginDefinition<K, any>;

export function definePlugin<K extends PluginKind, Options = Record<string, never>>(
  definition: Omit<PluginDefinition<K, Options>, typeof pluginSymbol>,
): PluginDefinition<K, Options> {
  return { ...definition, [pluginSymbol]: true };
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<PropertyKey, unknown>)[pluginSymbol] === true &&
    typeof (value as { create?: unknown }).create === "function"
  );
}

const requiredMethods: { readonly [K in PluginKind]: readonly string[] } = {
  evaluator: [],
  shaper: ["start", "stop", "addTask", "removeTask", "acquire", "record", "limitOf", "lastSecondUsage"],
  source: ["stat", "get"],
};

/** Checks that a made instance has what its kind requires; returns what is missing. */
export function missingMembers(kind: PluginKind, instance: unknown): string[] {
  if (typeof instance !== "object" || instance === null) return ["(an object)"];
  const record = instance as Record<string, unknown>;
  const missing = requiredMethods[kind].filter((method) => typeof record[method] !== "function");
  if (typeof record.name !== "string") missing.unshift("name");
  if (kind === "evaluator" && typeof record.score !== "function" && typeof record.isBadParent !== "function") {
    missing.push("score or isBadParent");
  }
  if (kind === "source" && !Array.isArray(record.schemes)) missing.push("schemes");
  return missing;
}
