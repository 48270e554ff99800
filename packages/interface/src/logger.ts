/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/**
 * The logger every df component receives by injection. Calls are `(message, fields)`;
 * `child("piece")` names a sub-component, so lines say which part of which node wrote
 * them (`df:daemon:piece`). The binaries back it with pino; tests may prefix it per node.
 */
export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  fatal(message: string, fields?: LogFields): void;
  /** A logger for a sub-component; its name is appended to this one's with a colon. */
  child(component: string, fields?: LogFields): Logger;
}

const noop = (): void => {};

/** A logger that drops everything: the default where none was given. */
export const noopLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => noopLogger,
};

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

export interface RecordedLogLine {
  level: LogLevel;
  component: string;
  message: string;
  fields: LogFields;
}

/**
 * A logger that keeps its lines in memory, for tests that assert what a component
 * reported (a dropped corrupt file, a rejected piece) without parsing text output.
 */
export function createRecordingLogger(component = "df"): Logger & { readonly lines: RecordedLogLine[] } {
  const lines: RecordedLogLine[] = [];
  const make = (name: string, base: LogFields): Logger => {
    const at =
      (level: LogLevel) =>
      (message: string, fields: LogFields = {}): void => {
        lines.push({ level, component: name, message, fields: { ...base, ...fields } });
      };
    return {
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      fatal: at("fatal"),
      child: (child, fields = {}) => make(`${name}:${child}`, { ...base, ...fields }),
    };
  };
  return Object.assign(make(component, {}), { lines });
}
