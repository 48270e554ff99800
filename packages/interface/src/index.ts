/**
 * @packageDocumentation
 * The contracts of df: what plugin authors and df's own services depend on. Plugin
 * interfaces (evaluators, traffic shapers, source clients), `definePlugin`, DI tokens,
 * the error type and units. Importing it loads no dependency: zod schemas
 * for options are in `@df/interface/zod`; the config loader, the plugin resolver, the
 * service runner and the DI container are in `@df/service-kit`, for services.
 *
 * A third-party evaluator is a package whose default export is
 * `definePlugin({ kind: "evaluator", name, options, create })`; the scheduler config
 * names it by package name or module path.
 */
export * from "./errors.js";
export * from "./abort.js";
export * from "./logger.js";
export * from "./map-bounded.js";
export * from "./tokens.js";
export * from "./units-parse.js";
export * from "./suggest.js";
export * from "./standard-schema.js";
export * from "./plugins/evaluator.js";
export * from "./plugins/shaper.js";
export * from "./plugins/source.js";
export * from "./plugins/definition.js";
