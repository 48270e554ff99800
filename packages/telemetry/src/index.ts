/**
 * @packageDocumentation
 * Logging and metrics for df services: a pino-backed `Logger` (JSON lines with a
 * `component` field per sub-component) and a per-instance Prometheus registry whose
 * metric names all start with `df_`.
 */
export * from "./logger.js";
export * from "./metrics.js";
