/**
 * @packageDocumentation
 * What df's services share and plugins never need: the config loader (YAML file,
 * environment, flags, one zod schema), the plugin resolver, the DI container of one
 * service instance, and the runner of a service binary (flags to exit code). Plugins
 * depend on `@df/interface` alone.
 */
export * from "./config.js";
export * from "./unit-ranges.js";
export * from "./container.js";
export * from "./run-service.js";
export * from "./service-cli.js";
export * from "./plugins/resolve.js";
export * from "./plugins/entry-schema.js";
export * from "./modules.js";
export * from "./metrics-endpoint.js";
export * from "./security-schema.js";
