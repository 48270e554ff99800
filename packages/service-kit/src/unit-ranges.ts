import { listUnitFields } from "@df/interface/zod";
import type { z } from "zod";
import { parseConfig } from "./config.js";

/** `{a: {b: value}}` for key `a.b`. */
function nested(key: string, value: unknown): Record<string, unknown> {
  return key
    .split(".")
    .reverse()
    .reduce<unknown>((inner, part) => ({ [part]: inner }), value) as Record<string, unknown>;
}

/**
 * Checks every duration and size key of a service's config schema against its range:
 * the bounds themselves are accepted, one unit past either is refused with an error
 * that names the key. Returns what went wrong (empty when all is well); `base` is a
 * config the schema accepts otherwise (for schemas with required keys).
 */
export function unitRangeProblems(schema: z.ZodType, name: string, base: Record<string, unknown> = {}): string[] {
  const problems: string[] = [];
  const merge = (key: string, value: unknown): unknown => deepMerge(base, nested(key, value));
  const at = (config: unknown, key: string): unknown => key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
  const refusal = (key: string, value: number): string | undefined => {
    try {
      parseConfig(schema, merge(key, value), name);
    } catch (error) {
      const message = (error as Error).message;
      return message.includes(`${key}: must be`) ? undefined : `${key} = ${value} was refused without naming the key: ${message}`;
    }
    return `${key} = ${value} was accepted, outside its range`;
  };
  for (const { key, field } of listUnitFields(schema)) {
    for (const bound of [field.min, field.max]) {
      try {
        const parsed = at(parseConfig(schema, merge(key, bound), name), key);
        if (parsed !== bound) problems.push(`${key} = ${bound} parsed as ${String(parsed)}`);
      } catch (error) {
        problems.push(`${key} = ${bound} (a bound of its range) was refused: ${(error as Error).message}`);
      }
    }
    const above = refusal(key, field.max + 1);
    if (above) problems.push(above);
    if (field.min > 0) {
      const below = refusal(key, field.min - 1);
      if (below) problems.push(below);
    }
  }
  return problems;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const existing = out[key];
    out[key] =
      typeof existing === "object" && existing !== null && !Array.isArray(existing) && typeof value === "object" && value !== null && !Array.isArray(value)
        ? deepMerge(existing as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
