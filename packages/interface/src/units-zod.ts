import { z } from "zod";
import { parseByteSize, parseDuration } from "./units-parse.js";


type UnitSchema = ReturnType<typeof unitSchema>;

function unitSchema(parse: (input: string | number) => number) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    try {
      return parse(value);
    } catch (error) {
      ctx.issues.push({ code: "custom", message: (error as Error).message, input: value });
      return z.NEVER;
    }
  });
}

/**
 * A config field holding a byte size (`1024Mi`, `20M`, or bytes); parses to bytes. Give
 * the default here rather than with `.default()`: zod's `.default()` skips the parse,
 * so `"1024Mi"` would stay a string.
 */
export function byteSize(): UnitSchema;
export function byteSize(defaultValue: string | number): z.ZodPrefault<UnitSchema>;
export function byteSize(defaultValue?: string | number): UnitSchema | z.ZodPrefault<UnitSchema> {
  const schema = unitSchema(parseByteSize);
  return defaultValue === undefined ? schema : schema.prefault(defaultValue);
}

/** A config field holding a duration (`30s`, `5m`, or ms); parses to milliseconds. See byteSize on defaults. */
export function duration(): UnitSchema;
export function duration(defaultValue: string | number): z.ZodPrefault<UnitSchema>;
export function duration(defaultValue?: string | number): UnitSchema | z.ZodPrefault<UnitSchema> {
  const schema = unitSchema(parseDuration);
  return defaultValue === undefined ? schema : schema.prefault(defaultValue);
}
