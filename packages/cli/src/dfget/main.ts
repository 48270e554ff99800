import { Command, Option } from "commander";
import { DfError, isDfError, toDfError } from "@df/interface/errors";
import { EXIT, exitCodeFor } from "../exit-codes.js";
import { explain } from "./explain.js";
import { DEFAULT_ENDPOINT, resolveDfgetOptions, type RawDfgetFlags } from "./options.js";
import { Progress } from "./progress.js";
import { DaemonUnreachable, downloadViaDaemon } from "./via-daemon.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;

function program(): Command {
  return new Command("dfget")
    .description("Download a URL through the local dfdaemon (P2P), or straight from the source when no daemon answers.")
    .argument("<url>", "what to download")
    .requiredOption("-O, --output <path>", "where to write it; - writes to standard output")
    .option("--digest <alg:hex>", "verify the whole file: sha256:…, sha512:… or crc32:…")
    .option("--tag <tag>", "tells apart tasks with the same URL and different content")
    .option("--application <name>", "the application the download belongs to")
    .option("-H, --header <header>", 'request header for the source, "Name: value" (repeatable)', collect)
    .option("--filtered-query-param <name>", "query parameter left out of the task ID (repeatable; default: cloud signing params)", collect)
    .option("--range <start-end>", "download only these bytes (inclusive; start- for the rest)")
    .option("--priority <0-6>", "task priority (0 lowest)")
    .option("--piece-length <bytes>", "fixed piece length (4–64 MiB); changes the task ID")
    .option("--timeout <duration>", "give up after this long, e.g. 30s or 10m")
    .option("--disable-back-to-source", "never fetch from the source: only from peers")
    .option("--overwrite", "replace the output if it exists")
    .option(
      "--hard-link",
      "hard-link the output to the daemon's cached copy instead of copying it (fails if they are on different file systems); " +
        "the output then IS the cache: editing it in place changes the cached copy, which the daemon detects and fetches again at the next download",
    )
    .addOption(new Option("--endpoint <socket>", "the dfdaemon's unix socket").default(DEFAULT_ENDPOINT, "$DF_DAEMON_SOCKET or /run/df/dfdaemon.sock"))
    .option("--no-progress", "no progress bar or progress lines")
    .addOption(new Option("--log-level <level>", "debug adds the internal detail of a failure").choices(LOG_LEVELS).default("info"))
    .addHelpText(
      "after",
      "\nExit codes: 0 done, 1 failed, 2 bad arguments, 3 not found, 4 output exists, 5 permission denied,\n" +
        "6 unavailable, 7 data corrupt (digest mismatch), 124 timed out, 130 cancelled,\n" +
        "141 standard output closed by its reader (-O - | head), quietly, as cat would.",
    )
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

/** Whether `error` (or what it wraps) is a write to a pipe nobody reads any more. */
function isClosedPipe(error: unknown): boolean {
  for (let at: unknown = error, depth = 0; at && depth < 8; at = (at as { cause?: unknown }).cause, depth++) {
    if ((at as NodeJS.ErrnoException).code === "EPIPE") return true;
    if (isDfError(at) && at.reason === "output-closed") return true;
  }
  return false;
}

/** The error and what it wraps, one line each, for --log-level debug. */
function detail(error: unknown): string {
  const lines: string[] = [];
  for (let at: unknown = error, depth = 0; at && depth < 8; at = (at as { cause?: unknown }).cause, depth++) {
    const code = isDfError(at) ? `${at.code}${at.reason ? `/${at.reason}` : ""}` : ((at as NodeJS.ErrnoException).code ?? "");
    const details = isDfError(at) && at.details ? ` ${JSON.stringify(at.details)}` : "";
    lines.push(`dfget: debug: ${depth > 0 ? "caused by " : ""}${code ? `[${code}] ` : ""}${at instanceof Error ? at.message : String(at)}${details}`);
  }
  return lines.join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  const command = program();
  try {
    command.parse(argv);
  } catch (error) {
    return (error as { exitCode?: number }).exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  const flags = command.opts<RawDfgetFlags & { logLevel: (typeof LOG_LEVELS)[number] }>();
  const controller = new AbortController();
  const cancel = () => controller.abort(new DOMException("interrupted", "AbortError"));
  // The reader of -O - went away (EPIPE): stop the download rather than die of an
  // unhandled 'error' event; main then exits quietly with EXIT.OUTPUT_CLOSED.
  let outputClosed = false;
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") outputClosed = true;
    controller.abort(new DfError("CANCELLED", "standard output was closed", { reason: "output-closed", cause: error }));
  };
  process.once("SIGINT", cancel);
  process.once("SIGTERM", cancel);
  process.stdout.on("error", onStdoutError);
  let progress: Progress | undefined;
  let viaDaemon = true;
  let options: Awaited<ReturnType<typeof resolveDfgetOptions>> | undefined;
  try {
    options = await resolveDfgetOptions(command.args[0]!, flags);
    const where = options.output === "-" ? "standard output" : options.output;
    progress = new Progress(options.progress);
    try {
      await downloadViaDaemon(options, progress, controller.signal);
    } catch (error) {
      if (!(error instanceof DaemonUnreachable)) throw error;
      progress.abort();
      viaDaemon = false;
      if (options.disableBackToSource) {
        throw toDfError(Object.assign(new Error(`${error.message}; and --disable-back-to-source forbids fetching directly`), { code: "ECONNREFUSED" }));
      }
      process.stderr.write(`dfget: ${error.message}; downloading directly from the source\n`);
      if (flags.logLevel === "debug") process.stderr.write(`${detail(error.cause)}\n`);
      progress = new Progress(options.progress);
      // Loaded only here: the HTTP client is not needed when the daemon answers.
      const { downloadDirect } = await import("./direct.js");
      await downloadDirect(options, progress, controller.signal);
    }
    progress.finish(`saved ${where}`);
    return EXIT.OK;
  } catch (error) {
    progress?.abort();
    if (outputClosed || isClosedPipe(error)) {
      if (flags.logLevel === "debug") process.stderr.write(`${detail(error)}\n`);
      return EXIT.OUTPUT_CLOSED;
    }
    const dfError = toDfError(error);
    const endpoint = options?.endpoint ?? flags.endpoint ?? DEFAULT_ENDPOINT;
    const message = explain(dfError, { url: command.args[0] ?? "", endpoint, timeoutMs: options?.timeoutMs ?? 0, viaDaemon });
    process.stderr.write(`dfget: ${message}\n`);
    if (flags.logLevel === "debug") process.stderr.write(`${detail(error)}\n`);
    return exitCodeFor(dfError.code);
  } finally {
    process.removeListener("SIGINT", cancel);
    process.removeListener("SIGTERM", cancel);
    // onStdoutError stays: a write still queued when the reader goes away must not
    // become an unhandled 'error' (and its stack trace) while dfget exits.
  }
}
