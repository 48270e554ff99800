import { readFile } from "node:fs/promises";
import type { parse as parseYamlType } from "yaml";
import type { z } from "zod";

type ParseYaml = typeof parseYamlType;

// yaml is loaded on first use: it costs ~100 ms at import, and most importers of this
// package (clients such as dfget) never read a config file.
let yamlParse: ParseYaml | undefined;
async function loadYaml(): Promise<ParseYaml> {
  yamlParse ??= (await import("yaml")).parse;
  return yamlParse;
}
import { DfError, closestMatch } from "@df/interface";

export interface LoadConfigOptions<S extends z.ZodType> {
  /** The service's schema; its `.default()`s are the one place defaults live. */
  schema: S;
  /** The service's name for messages: `dfdaemon`, `scheduler`, `manager`. */
  name: string;
  /** A YAML (or JSON) config file. */
  file?: string;
  /** Environment to read overrides from (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Prefix of override variables, e.g. `DF_DAEMON_`. Nested keys are joined with `__`,
   * words may be written with `_`: `DF_DAEMON_STORAGE__GC__HIGH_WATERMARK_PERCENT=85`
   * sets `storage.gc.highWatermarkPercent`. Values are read as YAML scalars.
   */
  envPrefix?: string;
  /** Values from command-line flags: they win over file and env. */
  overrides?: Record<string, unknown>;
}

export interface LoadedConfig<T> {
  config: T;
  /** Where each explicitly set dotted key came from (`file …`, `env …`, `flag`). */
  sources: ReadonlyMap<string, string>;
}

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What config loading reads of a zod schema's definition: its kind, the schema it wraps, an object's shape. */
interface ZodDefView {
  type: string;
  inner: z.ZodType | undefined;
  shape: Record<string, z.ZodType> | undefined;
}

function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null && "_zod" in value;
}

/**
 * Reads `schema._zod.def` (zod 4's definition object, typed there only as a base with
 * `type`): `innerType` of default/optional/nullable/… wrappers, `in` of a pipe, `shape`
 * of an object. Checked at run time, so a zod that moves these reads as "no wrapper".
 */
function zodDef(schema: z.ZodType): ZodDefView {
  const def: object & { type: string } = schema._zod.def;
  const innerType = "innerType" in def ? def.innerType : undefined;
  const pipeIn = def.type === "pipe" && "in" in def ? def.in : undefined;
  const inner = isZodSchema(innerType) ? innerType : isZodSchema(pipeIn) ? pipeIn : undefined;
  const rawShape = def.type === "object" && "shape" in def ? def.shape : undefined;
  const shape = isShape(rawShape) ? rawShape : undefined;
  return { type: def.type, inner, shape };
}

function isShape(value: unknown): value is Record<string, z.ZodType> {
  return isPlain(value) && Object.values(value).every(isZodSchema);
}

/** Looks through default/optional/nullable/pipe wrappers to the schema that holds the shape. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let i = 0; i < 16; i++) {
    const inner = zodDef(current).inner;
    if (!inner) return current;
    current = inner;
  }
  return current;
}

function shapeOf(schema: z.ZodType | undefined): Record<string, z.ZodType> | undefined {
  if (!schema) return undefined;
  return zodDef(unwrap(schema)).shape;
}

function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const key of path) {
    current = shapeOf(current)?.[String(key)];
    if (!current) return undefined;
  }
  return current;
}

const squash = (word: string): string => word.toLowerCase().replace(/[_-]/g, "");

function setPath(target: Plain, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlain(node[key])) node[key] = {};
    node = node[key] as Plain;
  }
  node[path[path.length - 1]!] = value;
}

function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isPlain(value) && isPlain(out[key]) ? deepMerge(out[key] as Plain, value) : value;
  }
  return out;
}

function recordSources(value: unknown, prefix: string, source: string, into: Map<string, string>): void {
  if (isPlain(value)) {
    for (const [key, inner] of Object.entries(value)) recordSources(inner, prefix ? `${prefix}.${key}` : key, source, into);
  } else if (prefix) {
    into.set(prefix, source);
  }
}

function invalidConfig(name: string, lines: string[], cause?: unknown): DfError {
  return new DfError("INVALID_ARGUMENT", `invalid ${name} config:\n  ${lines.join("\n  ")}`, {
    reason: "invalid-config",
    details: { problems: lines },
    ...(cause === undefined ? {} : { cause }),
  });
}

async function readConfigFile(name: string, file: string, parseYaml: ParseYaml): Promise<Plain> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DfError(code === "ENOENT" ? "NOT_FOUND" : "INVALID_ARGUMENT", `cannot read ${name} config ${file}: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text, { prettyErrors: true }) ?? {};
  } catch (error) {
    throw invalidConfig(name, [`${file}: not valid YAML: ${(error as Error).message}`], error);
  }
  if (!isPlain(parsed)) throw invalidConfig(name, [`${file}: the top level must be a mapping of keys to values`]);
  return parsed;
}

function envOverrides(
  parseYaml: ParseYaml,
  schema: z.ZodType,
  name: string,
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
  sources: Map<string, string>,
): Plain {
  const out: Plain = {};
  const problems: string[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(prefix) || raw === undefined) continue;
    const segments = variable.slice(prefix.length).split("__");
    const path: string[] = [];
    let node: z.ZodType | undefined = schema;
    for (const segment of segments) {
      const shape = shapeOf(node);
      const keys = shape ? Object.keys(shape) : [];
      const key = keys.find((k) => squash(k) === squash(segment));
      if (!key) {
        const hint = closestMatch(squash(segment), keys.map(squash));
        const hintKey = keys.find((k) => squash(k) === hint);
        problems.push(
          `${variable}: no config key "${[...path, segment.toLowerCase()].join(".")}"` +
            (hintKey ? ` (did you mean ${[...path, hintKey].join(".")}?)` : ""),
        );
        node = undefined;
        break;
      }
      path.push(key);
      node = shape![key];
    }
    if (!node) continue;
    const leafType = zodDef(unwrap(node)).type;
    let value: unknown = raw;
    if (leafType !== "string") {
      try {
        value = parseYaml(raw);
      } catch {
        value = raw;
      }
    }
    setPath(out, path, value);
    sources.set(path.join("."), `env ${variable}`);
  }
  if (problems.length > 0) throw invalidConfig(name, problems);
  return out;
}

function describeIssue(schema: z.ZodType, issue: z.core.$ZodIssue, sources: ReadonlyMap<string, string>): string[] {
  const key = issue.path.map(String).join(".") || "(top level)";
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(shapeOf(schemaAt(schema, issue.path)) ?? {});
    return issue.keys.map((unknownKey) => {
      const full = issue.path.length ? `${key}.${unknownKey}` : unknownKey;
      const hint = closestMatch(unknownKey, known);
      const from = sources.get(full);
      return `${full}: unknown key${hint ? ` (did you mean "${hint}"?)` : `; known keys here: ${known.join(", ")}`}${from ? ` (from ${from})` : ""}`;
    });
  }
  const from = sources.get(key);
  return [`${key}: ${issue.message}${from ? ` (from ${from})` : ""}`];
}

/**
 * Loads a service's config: schema defaults, then the YAML file, then env overrides,
 * then flags; validated by the schema. Every problem names the dotted key, what was
 * wrong and where the value came from.
 */
export async function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): Promise<LoadedConfig<z.output<S>>> {
  const sources = new Map<string, string>();
  const parseYaml = await loadYaml();
  let merged: Plain = {};
  if (options.file) {
    const fromFile = await readConfigFile(options.name, options.file, parseYaml);
    recordSources(fromFile, "", `file ${options.file}`, sources);
    merged = fromFile;
  }
  if (options.envPrefix) {
    merged = deepMerge(merged, envOverrides(parseYaml, options.schema, options.name, options.env ?? process.env, options.envPrefix, sources));
  }
  if (options.overrides) {
    recordSources(options.overrides, "", "flag", sources);
    merged = deepMerge(merged, options.overrides);
  }
  return { config: parseConfig(options.schema, merged, options.name, sources), sources };
}

/** Validates an in-memory config object with the same messages as `loadConfig`. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  name: string,
  sources: ReadonlyMap<string, string> = new Map(),
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw invalidConfig(
      name,
      result.error.issues.flatMap((issue) => describeIssue(schema, issue, sources)),
      result.error,
    );
  }
  return result.data;
}
