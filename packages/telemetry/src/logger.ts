import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import type { LogFields, Logger, LogLevel } from "@df/interface";

export interface CreateLoggerOptions {
  /** Component name of the root logger, e.g. `df:daemon`. */
  name: string;
  level?: LogLevel | "silent";
  /** Where JSON lines go (default: stderr, so stdout stays for a command's output). */
  destination?: DestinationStream;
  /** Fields on every line, e.g. the host ID. */
  base?: LogFields;
}

function adapt(logger: PinoLogger, component: string): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (fields) logger[level](fields, message);
      else logger[level](message);
    };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
    child: (name, fields) => {
      const full = `${component}:${name}`;
      return adapt(logger.child({ ...fields, component: full }), full);
    },
  };
}

/** A df Logger writing pino JSON lines, one `component` field per sub-component. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const root = pino(
    {
      level: options.level ?? "info",
      base: { component: options.name, pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
  return adapt(root, options.name);
}
