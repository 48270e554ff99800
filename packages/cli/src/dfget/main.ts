import { Command, Option } from "commander";
import { isDfError, toDfError } from "@df/interface/errors";
import { EXIT, exitCodeFor } from "../exit-codes.js";
import { DEFAULT_ENDPOINT, resolveDfgetOptions, type RawDfgetFlags } from "./options.js";
import { Progress } from "./progress.js";
import { DaemonUnreachable, downloadViaDaemon } from "./via-daemon.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

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
    .addHelpText(
      "after",
      "\nExit codes: 0 done, 1 failed, 2 bad arguments, 3 not found, 4 output exists, 5 permission denied,\n" +
        "6 unavailable, 7 data corrupt (digest mismatch), 124 timed out, 130 cancelled.",
    )
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

export async function main(argv: readonly string[]): Promise<number> {
  const command = program();
  try {
    command.parse(argv);
  } catch (error) {
    return (error as { exitCode?: number }).exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  const controller = new AbortController();
  const cancel = () => controller.abort(new DOMException("interrupted", "AbortError"));
  process.once("SIGINT", cancel);
  process.once("SIGTERM", cancel);
  let progress: Progress | undefined;
  try {
    const options = await resolveDfgetOptions(command.args[0]!, command.opts<RawDfgetFlags>());
    const where = options.output === "-" ? "standard output" : options.output;
    progress = new Progress(options.progress);
    try {
      await downloadViaDaemon(options, progress, controller.signal);
    } catch (error) {
      if (!(error instanceof DaemonUnreachable)) throw error;
      if (options.disableBackToSource) {
        throw toDfError(Object.assign(new Error(`${error.message}; and --disable-back-to-source forbids fetching directly`), { code: "ECONNREFUSED" }));
      }
      process.stderr.write(`dfget: ${error.message}; downloading directly from the source\n`);
      progress = new Progress(options.progress);
      // Loaded only here: the HTTP client is not needed when the daemon answers.
      const { downloadDirect } = await import("./direct.js");
      await downloadDirect(options, progress, controller.signal);
    }
    progress.finish(`saved ${where}`);
    return EXIT.OK;
  } catch (error) {
    progress?.abort();
    const dfError = toDfError(error);
    process.stderr.write(`dfget: ${dfError.message}\n`);
    return isDfError(dfError) ? exitCodeFor(dfError.code) : EXIT.FAILED;
  } finally {
    process.removeListener("SIGINT", cancel);
    process.removeListener("SIGTERM", cancel);
  }
}
