import { Command, Option } from "commander";
import { collectList as collect, runServiceCli, type ServiceFlags } from "@df/service-kit";
import { daemonConfigSchema } from "./config.js";
import { Daemon } from "./daemon.js";

interface Flags extends ServiceFlags {
  seed?: boolean;
  scheduler?: string[];
  manager?: string[];
  storageDir?: string;
  socket?: string;
  uploadListen?: string;
  bytesListen?: string;
  metricsListen?: string;
  hostname?: string;
  ip?: string;
}

function overridesOf(flags: Flags): Record<string, unknown> {
  const host = { ...(flags.hostname ? { hostname: flags.hostname } : {}), ...(flags.ip ? { ip: flags.ip } : {}) };
  const upload = {
    ...(flags.uploadListen ? { listen: flags.uploadListen } : {}),
    ...(flags.bytesListen ? { bytesListen: flags.bytesListen } : {}),
  };
  return {
    ...(Object.keys(host).length > 0 ? { host } : {}),
    ...(flags.seed ? { seedPeer: { enable: true } } : {}),
    ...(flags.scheduler?.length ? { scheduler: { addresses: flags.scheduler } } : {}),
    ...(flags.manager?.length ? { manager: { addresses: flags.manager } } : {}),
    ...(flags.storageDir ? { storage: { dir: flags.storageDir } } : {}),
    ...(flags.socket ? { download: { socket: flags.socket } } : {}),
    ...(Object.keys(upload).length > 0 ? { upload } : {}),
    ...(flags.metricsListen !== undefined ? { metricsListen: flags.metricsListen } : {}),
  };
}

/** Exit codes: 0 stopped cleanly, 1 failed while starting or running, 2 bad config or flags. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("dfdaemon")
    .description("Run a df peer: it downloads through the P2P network for local clients and serves pieces to other peers.")
    .option("-c, --config <file>", "YAML config file (every key has a default)")
    .option("--seed", "run as a seed peer (the scheduler's first stop for new tasks)")
    .option("--scheduler <address>", "scheduler address host:port; repeat or comma-separate for several", collect)
    .option("--manager <address>", "manager gRPC address host:port: schedulers come from it (--scheduler is the fallback)", collect)
    .option("--storage-dir <dir>", "where tasks are stored")
    .option("--socket <path>", "unix socket of the download service for dfget/dfcache")
    .option("--upload-listen <address>", "upload gRPC address, e.g. 0.0.0.0:4000")
    .option("--bytes-listen <address>", "piece-byte transport address, e.g. 0.0.0.0:4005")
    .option("--metrics-listen <address>", "Prometheus /metrics address; empty disables")
    .option("--hostname <name>", "host name announced to the scheduler (part of the host ID)")
    .option("--ip <ip>", "IP other peers reach this host at")
    .addOption(new Option("--log-level <level>", "log level").choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"]))
    .addHelpText(
      "after",
      "\nEnvironment: DF_DAEMON_<KEY>__<SUBKEY>=value overrides a config key,\n" +
        "e.g. DF_DAEMON_DOWNLOAD__CONCURRENT_PIECE_COUNT=16 or DF_DAEMON_SEED_PEER__ENABLE=true.\n" +
        "Download bandwidth: DF_DAEMON_DOWNLOAD__TRAFFIC_SHAPER_TYPE=plain|static|sampling,\n" +
        "DF_DAEMON_DOWNLOAD__TOTAL_RATE_LIMIT=1024Mi, DF_DAEMON_DOWNLOAD__PER_PEER_RATE_LIMIT=512Mi.",
    );
  return runServiceCli({
    program,
    argv,
    configName: "dfdaemon",
    schema: daemonConfigSchema,
    envPrefix: "DF_DAEMON_",
    overrides: overridesOf,
    loggerName: "df:daemon",
    create: (config, { logger, configDir }) => Daemon.create(config, { logger, ...(configDir ? { configDir } : {}) }),
    // Tests and scripts wait for this exact line; nothing else goes to stdout.
    readyLine: (a) => `dfdaemon ready: socket=${a.socket} upload=${a.upload} bytes=${a.bytes} host=${a.hostId}`,
  });
}
