import { z } from "zod";

/**
 * One plugin in a service config, as written in YAML: a name (`sigma`), a name with
 * options (`[score, { … }]` or `{ name, options }`), a package name or a path to a
 * module. `resolvePlugins` turns these into plugin definitions.
 */
export const pluginEntrySchema = z.union([
  z.string().min(1),
  z.tuple([z.string().min(1), z.record(z.string(), z.unknown())]),
  z.tuple([z.string().min(1)]),
  z.strictObject({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }),
]);
