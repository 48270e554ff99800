/**
 * @packageDocumentation
 * The contracts of df: what plugin authors and df's own services depend on. Plugin
 * interfaces (evaluators, traffic shapers, source clients), DI tokens, the error type,
 * lifecycle, the plugin resolver and the config loader. Nothing heavy lives here.
 */
export * from "./errors.js";
export * from "./abort.js";
