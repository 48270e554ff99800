import { Command, Option } from "commander";
import { isDfError, toDfError } from "@df/interface/errors";
import { createRpcClient, daemonDownload } from "@df/rpc";
import { DEFAULT_ENDPOINT } from "../dfget/options.js";
import { EXIT, exitCodeFor } from "../exit-codes.js";
import { deleteCommand, deleteUrlCommand, exportCommand, importCommand, statCommand, type Client, type Outcome } from "./commands.js";
import { resolveCacheOptions, type CacheOptions, type RawCacheFlags } from "./options.js";

type Run = (client: Client, options: CacheOptions, signal: AbortSignal) => Promise<Outcome>;

const EXIT_HELP =
  "\nExit codes: 0 found / done, 3 not found, 1 failed, 2 bad arguments, 4 output exists or cid holds other content,\n" +
  "5 permission denied, 6 daemon or scheduler unavailable, 124 timed out, 130 cancelled.";

function withCommon(command: Command, cid: "required" | "or-url" = "required"): Command {
  const described = "the cache ID naming the data (any string, e.g. sha256:<hex>)";
  return (cid === "required" ? command.requiredOption("-i, --cid <id>", described) : command.option("-i, --cid <id>", described))
    .option("-t, --tag <tag>", "tells apart data under the same cid")
    .addOption(new Option("--endpoint <socket>", "the dfdaemon's unix socket").default(DEFAULT_ENDPOINT, "$DF_DAEMON_SOCKET or /run/df/dfdaemon.sock"))
    .option("--timeout <duration>", "give up after this long, e.g. 30s or 10m")
    .option("--no-progress", "no progress bar or progress lines")
    .option("--json", "print the result as one JSON object on stdout")
    .addHelpText("after", EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

/** Parses argv; returns the chosen command's work, or an exit code for help and usage errors. */
function parse(argv: readonly string[]): { run: Run; options: RawCacheFlags } | number {
  let chosen: { run: Run; options: RawCacheFlags } | undefined;
  const program = new Command("dfcache")
    .description("The P2P cache for data with no origin: import a file on this node, stat, export or delete it from any node.")
    .addHelpText("after", EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  program.addCommand(
    withCommon(new Command("import").description("put a local file into the P2P cache under --cid").argument("<file>", "the file to import")).action(
      (file: string, flags: RawCacheFlags) => {
        chosen = { options: flags, run: (client, options, signal) => importCommand(client, options, file, signal) };
      },
    ),
  );
  program.addCommand(
    withCommon(new Command("stat").description("is --cid available? (exit 0 yes, 3 no)"))
      .option("-l, --local", "look only in this host's store, not at other peers")
      .action((flags: RawCacheFlags) => {
        chosen = { options: flags, run: (client, options, signal) => statCommand(client, options, flags.local ?? false, signal) };
      }),
  );
  program.addCommand(
    withCommon(new Command("export").description("write --cid's data to a file, from this host or from peers (never an origin)"))
      .argument("[output]", "where to write it (or -O)")
      .option("-O, --output <path>", "where to write it")
      .option("-l, --local", "only from this host's store")
      .option("--overwrite", "replace the output if it exists")
      .action((positional: string | undefined, flags: RawCacheFlags) => {
        const output = flags.output ?? positional;
        chosen = {
          options: flags,
          run: (client, options, signal) => {
            if (!output) throw Object.assign(new Error("the output path is required: -O <path>"), { usage: true });
            return exportCommand(client, options, { output, local: flags.local ?? false, overwrite: flags.overwrite ?? false }, signal);
          },
        };
      }),
  );
  program.addCommand(
    withCommon(
      new Command("delete").description(
        "remove --cid's data from this host; or, with --url, every task of an origin URL (all versions of its content), so the next dfget fetches it anew",
      ),
      "or-url",
    )
      .option("--url <url>", "an origin URL downloaded with dfget, instead of --cid (with its --tag and --application, if any)")
      .option("--application <name>", "with --url: the application it was downloaded for")
      .option("--remote", "also tell the scheduler this host no longer has it")
      .action((flags: RawCacheFlags) => {
        const remote = flags.remote ?? false;
        chosen = {
          options: flags,
          run: (client, options, signal) => (options.url !== undefined ? deleteUrlCommand(client, options, remote, signal) : deleteCommand(client, options, remote, signal)),
        };
      }),
  );
  try {
    program.parse(argv);
  } catch (error) {
    return (error as { exitCode?: number }).exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (!chosen) {
    program.outputHelp({ error: true });
    return EXIT.USAGE;
  }
  return chosen;
}

export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parse(argv);
  if (typeof parsed === "number") return parsed;
  const controller = new AbortController();
  const cancel = () => controller.abort(new DOMException("interrupted", "AbortError"));
  process.once("SIGINT", cancel);
  process.once("SIGTERM", cancel);
  let json = parsed.options.json ?? false;
  let client: Client | undefined;
  try {
    const options = resolveCacheOptions(parsed.options);
    json = options.json;
    client = createRpcClient(daemonDownload.DfdaemonDownloadClient, options.endpoint);
    const outcome = await parsed.run(client, options, controller.signal);
    if (json) process.stdout.write(`${JSON.stringify(outcome.json)}\n`);
    else process.stderr.write(`dfcache: ${outcome.line}\n`);
    return outcome.found ? EXIT.OK : EXIT.NOT_FOUND;
  } catch (error) {
    if ((error as { usage?: boolean }).usage) {
      process.stderr.write(`dfcache: ${(error as Error).message}\n`);
      return EXIT.USAGE;
    }
    const dfError = toDfError(error);
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: dfError.code, reason: dfError.reason, message: dfError.message } })}\n`);
    process.stderr.write(`dfcache: ${dfError.message}\n`);
    return isDfError(dfError) ? exitCodeFor(dfError.code) : EXIT.FAILED;
  } finally {
    client?.close();
    process.removeListener("SIGINT", cancel);
    process.removeListener("SIGTERM", cancel);
  }
}
