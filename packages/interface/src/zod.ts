/**
 * @packageDocumentation
 * `@df/interface/zod`: zod schemas for config and plugin options (units that parse
 * `30s` and `1024Mi`, the shaper limits). A subpath of its own, so that importing the
 * contracts does not load zod.
 */
export * from "./units-zod.js";
export * from "./plugins/shaper-options.js";
