import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DfError, noopLogger, type Logger, issueKey, closestMatch, isPluginDefinition, type AnyPluginDefinition, missingMembers, type PluginContext, type PluginDefinition, type PluginKind, type PluginKinds } from "@df/interface";
import { resolvePackageEntry } from "./package-entry.js";

/**
 * How config names a plugin: a name (`sigma`), a name with options (`[sigma, {k: 3}]`
 * or `{name: sigma, options: {k: 3}}`), or, from code, a definition itself. A name that
 * is not built in is a module path (`./my-evaluator.js`, `/opt/df/x.js`) or an npm
 * package name (`@acme/df-evaluator`).
 */
export type PluginEntry<K extends PluginKind = PluginKind> =
  | string
  | readonly [string, Record<string, unknown>?]
  | { readonly name: string; readonly options?: Record<string, unknown> }
  | AnyPluginDefinition<K>;

/** Built-in plugins by name; loaders are lazy so unused plugins cost nothing. */
export type BuiltinPlugins<K extends PluginKind> = Readonly<
  Record<string, () => AnyPluginDefinition<K> | Promise<AnyPluginDefinition<K> | { default: unknown }>>
>;

export interface ResolvePluginOptions<K extends PluginKind> {
  kind: K;
  /** The dotted config key the entry came from; every error names it. */
  key: string;
  builtins?: BuiltinPlugins<K>;
  /** Where module paths and package names are resolved from (the config file's folder). */
  baseDir?: string;
  logger?: Logger;
}

interface NormalizedEntry {
  name: string;
  options: unknown;
  optionsKey: string;
}

function invalid(key: string, message: string, cause?: unknown, details?: Record<string, unknown>): DfError {
  return new DfError("INVALID_ARGUMENT", `${key}: ${message}`, {
    reason: "invalid-plugin",
    details: { key, ...details },
    ...(cause === undefined ? {} : { cause }),
  });
}

function normalize(entry: unknown, key: string): NormalizedEntry | PluginDefinition {
  if (isPluginDefinition(entry)) return entry;
  if (typeof entry === "string" && entry.trim() !== "") return { name: entry.trim(), options: undefined, optionsKey: key };
  if (Array.isArray(entry) && typeof entry[0] === "string" && entry.length <= 2) {
    return { name: entry[0], options: entry[1], optionsKey: `${key}.1` };
  }
  if (typeof entry === "object" && entry !== null && typeof (entry as { name?: unknown }).name === "string") {
    const { name, options, ...rest } = entry as { name: string; options?: unknown };
    const extra = Object.keys(rest);
    if (extra.length > 0) {
      throw invalid(key, `unknown field "${extra[0]}"; a plugin entry has only "name" and "options"`);
    }
    return { name, options, optionsKey: `${key}.options` };
  }
  throw invalid(
    key,
    `expected a plugin name, [name, options] or {name, options}, got ${JSON.stringify(entry) ?? String(entry)}`,
  );
}

function isModulePath(name: string): boolean {
  return name.startsWith("./") || name.startsWith("../") || isAbsolute(name) || name.startsWith("file:");
}

async function importModule(name: string, baseDir: string, key: string): Promise<unknown> {
  if (isModulePath(name)) {
    const url = name.startsWith("file:") ? name : pathToFileURL(resolve(baseDir, name)).href;
    try {
      return await import(url);
    } catch (error) {
      throw invalid(key, `cannot load plugin module "${name}" (resolved to ${url}): ${(error as Error).message}`, error);
    }
  }
  let resolved: string | undefined;
  try {
    resolved = resolvePackageEntry(name, baseDir);
  } catch {
    // An unreadable manifest: df's own dependencies get a chance below.
  }
  try {
    return await import(resolved ? pathToFileURL(resolved).href : name);
  } catch (error) {
    throw invalid(
      key,
      `cannot load plugin package "${name}" from ${baseDir}: ${(error as Error).message}. ` +
        `Install it next to the config (npm install ${name}) or give a path starting with ./ or /`,
      error,
      resolved ? { name, resolved } : { name },
    );
  }
}

function definitionFrom(moduleValue: unknown): unknown {
  let value = moduleValue;
  // Unwrap `export default` and CJS-interop double defaults.
  for (let i = 0; i < 2 && typeof value === "object" && value !== null && !isPluginDefinition(value); i++) {
    const record = value as { default?: unknown; plugin?: unknown };
    value = record.default ?? record.plugin ?? value;
    if (value === moduleValue) break;
  }
  return value;
}

async function loadDefinition<K extends PluginKind>(
  entry: NormalizedEntry,
  options: ResolvePluginOptions<K>,
): Promise<PluginDefinition<K, unknown>> {
  const { key, kind } = options;
  const builtins = options.builtins ?? {};
  const loader = Object.hasOwn(builtins, entry.name) ? builtins[entry.name] : undefined;
  let loaded: unknown;
  if (loader) {
    loaded = definitionFrom(await loader());
  } else if (isModulePath(entry.name)) {
    loaded = definitionFrom(await importModule(entry.name, options.baseDir ?? process.cwd(), key));
  } else {
    try {
      loaded = definitionFrom(await importModule(entry.name, options.baseDir ?? process.cwd(), key));
    } catch (error) {
      // The package is there but failed to load (it throws, or misses a dependency of
      // its own): say so, rather than that no plugin has this name.
      if ((error as DfError).details?.["resolved"] !== undefined) throw error;
      const known = Object.keys(builtins);
      const suggestion = closestMatch(entry.name, known);
      throw invalid(
        key,
        `no ${kind} plugin named "${entry.name}"` +
          (suggestion ? ` (did you mean "${suggestion}"?)` : "") +
          `; built-in ${kind} plugins: ${known.join(", ") || "none"}. ` +
          `A third-party plugin is a module path (./x.js, /opt/x.js) or an installed npm package`,
        error,
        { name: entry.name },
      );
    }
  }
  if (!isPluginDefinition(loaded)) {
    throw invalid(
      key,
      `"${entry.name}" does not export a df plugin definition (export default definePlugin({ kind: "${kind}", … }))`,
    );
  }
  if (loaded.kind !== kind) {
    throw invalid(key, `"${entry.name}" is a ${loaded.kind} plugin, but ${key} needs a ${kind} plugin`);
  }
  return loaded as PluginDefinition<K, unknown>;
}

async function validateOptions(definition: PluginDefinition, raw: unknown, optionsKey: string): Promise<unknown> {
  const input = raw ?? {};
  // A plugin without a schema validates its own options (plain-JS plugins need no validator).
  if (!definition.options) return input;
  const result = await definition.options["~standard"].validate(input);
  if (result.issues) {
    const lines = result.issues.map((issue) => `${issueKey(optionsKey, issue)}: ${issue.message}`);
    throw new DfError("INVALID_ARGUMENT", `invalid options for ${definition.kind} plugin "${definition.name}": ${lines.join("; ")}`, {
      reason: "invalid-plugin-options",
      details: { key: optionsKey, issues: lines },
    });
  }
  return result.value;
}

/**
 * Turns a config entry into a ready plugin instance: finds the definition (built-in
 * name, module path or package), validates its options, calls its factory and checks
 * that what came back is a plugin of the expected kind. Every failure is a DfError
 * INVALID_ARGUMENT whose message starts with the config key.
 */
export async function resolvePlugin<K extends PluginKind>(
  entry: PluginEntry<K> | unknown,
  options: ResolvePluginOptions<K>,
): Promise<PluginKinds[K]> {
  const normalized = normalize(entry, options.key);
  const definition = isPluginDefinition(normalized) ? normalized : await loadDefinition(normalized, options);
  if (definition.kind !== options.kind) {
    throw invalid(options.key, `"${definition.name}" is a ${definition.kind} plugin, but ${options.key} needs a ${options.kind} plugin`);
  }
  const raw = isPluginDefinition(normalized) ? undefined : normalized.options;
  const optionsKey = isPluginDefinition(normalized) ? options.key : normalized.optionsKey;
  const validated = await validateOptions(definition, raw, optionsKey);
  const context: PluginContext = {
    key: options.key,
    logger: (options.logger ?? noopLogger).child(`${options.kind}:${definition.name}`),
  };
  let instance: unknown;
  try {
    instance = await (definition as PluginDefinition<K, unknown>).create(validated, context);
  } catch (error) {
    throw invalid(options.key, `${options.kind} plugin "${definition.name}" failed to start: ${(error as Error).message}`, error);
  }
  const missing = missingMembers(options.kind, instance);
  if (missing.length > 0) {
    throw invalid(options.key, `${options.kind} plugin "${definition.name}" made an instance without ${missing.join(", ")}`);
  }
  return instance as PluginKinds[K];
}

/** Resolves a list of entries (e.g. a filter evaluator then a scorer), keys `key.0`, `key.1`, … */
export async function resolvePlugins<K extends PluginKind>(
  entries: readonly unknown[],
  options: ResolvePluginOptions<K>,
): Promise<PluginKinds[K][]> {
  const out: PluginKinds[K][] = [];
  for (const [index, entry] of entries.entries()) {
    out.push(await resolvePlugin(entry, { ...options, key: `${options.key}.${index}` }));
  }
  return out;
}
