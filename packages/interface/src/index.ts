/**
 * @packageDocumentation
 * The contracts of df: what plugin authors and df's own services depend on. Plugin
 * interfaces (evaluators, traffic shapers, source clients), DI tokens, the error type,
 * lifecycle, the plugin resolver and the config loader. Nothing heavy lives here.
 *
 * A third-party evaluator is a package whose default export is
 * `definePlugin({ kind: "evaluator", name, options, create })`; the scheduler config
 * names it by package name or module path.
 */
export * from "./errors.js";
export * from "./abort.js";
export * from "./logger.js";
export * from "./lifecycle.js";
export * from "./run-service.js";
export * from "./map-bounded.js";
export * from "./tokens.js";
export * from "./container.js";
export * from "./units.js";
export * from "./config.js";
export * from "./suggest.js";
export * from "./standard-schema.js";
export * from "./plugins/evaluator.js";
export * from "./plugins/shaper.js";
export * from "./plugins/shaper-options.js";
export * from "./plugins/source.js";
export * from "./plugins/definition.js";
export * from "./plugins/resolve.js";
export * from "./plugins/entry-schema.js";
