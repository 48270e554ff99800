import { z } from "zod";
import { formatByteSize, formatDuration, MAX_TIMER_MS, parseByteSize, parseDuration } from "./units-parse.js";

type UnitSchema = ReturnType<typeof unitSchema>;

/** Bounds of a unit field, inclusive, in the field's own notation (`1s`, `24h`, `1Mi`) or base units. */
export interface UnitRange {
  min?: string | number;
  max?: string | number;
  /** Said after "must be at most …" when the maximum is not obvious, e.g. why it exists. */
  maxReason?: string;
}

interface Bounds {
  min: number;
  max: number;
  maxReason: string | undefined;
  /** How the maximum is written in messages, when not by the unit's formatter. */
  maxLabel?: string;
}

/** What a duration or size field accepts, in base units (ms, bytes). */
export interface UnitField {
  kind: "duration" | "size";
  min: number;
  max: number;
}

const unitFields = new WeakMap<object, UnitField>();

/**
 * Every duration and size field of a config schema, by dotted key, with its range: so
 * a test can check that each one has a range and refuses what lies outside it.
 */
export function listUnitFields(schema: z.ZodType): Array<{ key: string; field: UnitField }> {
  const found: Array<{ key: string; field: UnitField }> = [];
  const walk = (node: z.ZodType, path: string[], depth: number): void => {
    if (depth > 32) return;
    const def: object & { type: string } = node._zod.def;
    // `.refine()` and friends clone the schema; the clone keeps the parts of the pipe.
    const field = unitFields.get(node) ?? (def.type === "pipe" && "out" in def && typeof def.out === "object" && def.out !== null ? unitFields.get(def.out) : undefined);
    if (field) {
      found.push({ key: path.join("."), field });
      return;
    }
    if (def.type === "object" && "shape" in def && typeof def.shape === "object" && def.shape !== null) {
      for (const [name, child] of Object.entries(def.shape as Record<string, z.ZodType>)) walk(child, [...path, name], depth + 1);
      return;
    }
    if ("innerType" in def && def.innerType) walk(def.innerType as z.ZodType, path, depth + 1);
  };
  walk(schema, [], 0);
  return found;
}

/** Known by the schema and by its pipe's output, which survives the clones `.refine()` makes. */
function register(schema: UnitSchema, field: UnitField): void {
  unitFields.set(schema, field);
  unitFields.set(schema._zod.def.out, field);
}

function unitSchema(parse: (input: string | number) => number, format: (value: number) => string, bounds: Bounds) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    let parsed: number;
    try {
      parsed = parse(value);
    } catch (error) {
      ctx.issues.push({ code: "custom", message: (error as Error).message, input: value });
      return z.NEVER;
    }
    const shown = typeof value === "string" ? `"${value}"` : String(value);
    if (parsed < bounds.min) {
      const what = bounds.min === 1 ? "more than 0" : `at least ${format(bounds.min)}`;
      ctx.issues.push({ code: "custom", message: `must be ${what}, got ${shown}`, input: value });
      return z.NEVER;
    }
    if (parsed > bounds.max) {
      ctx.issues.push({
        code: "custom",
        message: `must be at most ${bounds.maxLabel ?? format(bounds.max)}${bounds.maxReason ? ` (${bounds.maxReason})` : ""}, got ${shown}`,
        input: value,
      });
      return z.NEVER;
    }
    return parsed;
  });
}

function bounds(parse: (input: string | number) => number, range: UnitRange, defaults: Bounds): Bounds {
  const min = range.min === undefined ? defaults.min : parse(range.min);
  const max = range.max === undefined ? defaults.max : parse(range.max);
  if (!(min <= max) || max > defaults.max) throw new Error(`bad unit range ${String(range.min)}..${String(range.max)}`);
  if (range.max !== undefined) return { min, max, maxReason: range.maxReason };
  return { min, max, maxReason: range.maxReason ?? defaults.maxReason, ...(defaults.maxLabel === undefined ? {} : { maxLabel: defaults.maxLabel }) };
}

const SIZE_DEFAULTS: Bounds = { min: 0, max: Number.MAX_SAFE_INTEGER, maxReason: undefined };

/**
 * A config field holding a byte size (`1024Mi`, `20M`, or bytes); parses to bytes,
 * within `range` (default: any non-negative size). Give the default here rather than
 * with `.default()`: zod's `.default()` skips the parse, so `"1024Mi"` would stay a
 * string.
 */
export function byteSize(defaultValue?: undefined, range?: UnitRange): UnitSchema;
export function byteSize(defaultValue: string | number, range?: UnitRange): z.ZodPrefault<UnitSchema>;
export function byteSize(defaultValue?: string | number, range: UnitRange = {}): UnitSchema | z.ZodPrefault<UnitSchema> {
  const limits = bounds(parseByteSize, range, SIZE_DEFAULTS);
  const schema = unitSchema(parseByteSize, formatByteSize, limits);
  register(schema, { kind: "size", min: limits.min, max: limits.max });
  return defaultValue === undefined ? schema : schema.prefault(defaultValue);
}

const DURATION_DEFAULTS: Bounds = {
  min: 0,
  max: MAX_TIMER_MS,
  maxLabel: "24.8 days (2^31 − 1 ms)",
  maxReason: "Node clamps a longer timer to 1 ms, so it would fire at once",
};

/** The upper bound of a duration that is only compared with clocks, never put in a timer (a TTL). */
const MAX_TTL_MS = 100 * 365 * 86_400_000;

/**
 * A config field holding a duration (`30s`, `5m`, or ms); parses to milliseconds,
 * within `range`. By default at most 2^31 − 1 ms (about 24.8 days), the longest timer
 * Node keeps: a field that is only compared with timestamps, never waited on, may say
 * `ttl: true` to allow up to 100 years. See byteSize on defaults.
 */
export function duration(defaultValue?: undefined, range?: UnitRange & { ttl?: boolean }): UnitSchema;
export function duration(defaultValue: string | number, range?: UnitRange & { ttl?: boolean }): z.ZodPrefault<UnitSchema>;
export function duration(defaultValue?: string | number, range: UnitRange & { ttl?: boolean } = {}): UnitSchema | z.ZodPrefault<UnitSchema> {
  const defaults = range.ttl ? { min: 0, max: MAX_TTL_MS, maxReason: undefined } : DURATION_DEFAULTS;
  const limits = bounds(parseDuration, range, defaults);
  const schema = unitSchema(parseDuration, formatDuration, limits);
  register(schema, { kind: "duration", min: limits.min, max: limits.max });
  return defaultValue === undefined ? schema : schema.prefault(defaultValue);
}
