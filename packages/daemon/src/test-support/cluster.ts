import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";
import { noopLogger, type Logger, type LogLevel } from "@df/interface";
import { common, createRpcClient, daemonDownload, serverStream, type RpcClient } from "@df/rpc";
import { Scheduler, schedulerConfigSchema } from "@df/scheduler";
import { createLogger } from "@df/telemetry";
import { startOriginServer, type OriginServer } from "@df/compliance-tests";
import { daemonConfig, type DaemonConfigInput } from "../config.js";
import { Daemon, type DaemonDeps } from "../daemon.js";
import { identify } from "../task/identity.js";
import { encodeVersion } from "../task/version.js";

/** Logs go nowhere unless DF_TEST_LOG names a level (e.g. DF_TEST_LOG=debug). */
export function testLogger(name: string): Logger {
  const level = process.env.DF_TEST_LOG as LogLevel | undefined;
  return level ? createLogger({ name, level }) : noopLogger;
}

/**
 * A fresh folder removed when the test ends. Short (`/tmp/dfd-XXXXXX`), because a
 * unix socket path may hold at most 107 bytes.
 */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dfd-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function startOrigin(): Promise<OriginServer> {
  const origin = await startOriginServer();
  onTestFinished(() => origin.close());
  return origin;
}

/** A real scheduler on a loopback port, with short retry intervals so tests run fast. */
export async function startScheduler(
  listen = "127.0.0.1:0",
  scheduling: Record<string, unknown> = {},
): Promise<{ scheduler: Scheduler; address: string }> {
  const config = schedulerConfigSchema.parse({
    listen,
    metricsListen: "",
    log: { level: "silent" },
    scheduling: { retryInterval: "200ms", registerDelayBase: 0, ...scheduling },
  });
  const scheduler = await Scheduler.create(config, { logger: testLogger("df:scheduler") });
  const bound = await scheduler.start();
  onTestFinished(() => scheduler.stop());
  if (bound.kind !== "tcp") throw new Error("expected a TCP scheduler address");
  return { scheduler, address: `127.0.0.1:${bound.port}` };
}

/** An address nothing listens on: a scheduler that is down. */
export const DEAD_SCHEDULER = "127.0.0.1:9";

export interface DaemonOptions {
  name: string;
  scheduler: string;
  seed?: boolean;
  /** Reuse a storage folder (a restart); a fresh one otherwise. */
  dir?: string;
  config?: DaemonConfigInput;
  deps?: Partial<DaemonDeps>;
  /** Leave stopping to the test (restarts). */
  manualStop?: boolean;
}

/** A daemon on loopback ports in its own temp folder, stopped when the test ends. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon & { dir: string }> {
  const dir = options.dir ?? (await tempDir());
  const base = options.config ?? {};
  const config = daemonConfig({
    ...base,
    host: { hostname: options.name, ...base.host },
    seedPeer: { enable: options.seed ?? false },
    scheduler: { addresses: [options.scheduler], announceInterval: "5s", ...base.scheduler },
    storage: { dir: path.join(dir, "store"), gc: { interval: 0 }, ...base.storage },
    download: { socket: path.join(dir, "d.sock"), stallTimeout: "5s", ...base.download },
    upload: { listen: "127.0.0.1:0", bytesListen: "127.0.0.1:0", ...base.upload },
    metricsListen: "",
    // The tests' origins listen on loopback, which the http source refuses by default.
    sources: base.sources ?? [["http", { destinations: { allow: ["127.0.0.0/8", "::1"] } }]],
  });
  const daemon = await Daemon.create(config, { logger: testLogger(`df:daemon:${options.name}`), ...options.deps });
  if (!options.manualStop) onTestFinished(() => daemon.stop());
  await daemon.start();
  return Object.assign(daemon, { dir });
}

export type DownloadClient = RpcClient<daemonDownload.DfdaemonDownloadService, daemonDownload.DfdaemonDownloadClient>;

export function downloadClient(socket: string): DownloadClient {
  const client = createRpcClient(daemonDownload.DfdaemonDownloadClient, `unix:${socket}`, { defaultDeadlineMs: 30_000 });
  onTestFinished(() => client.close());
  return client;
}

export type DownloadInput = Partial<common.Download>;

/** Runs one DownloadTask to its end and returns every response. */
export async function download(
  socket: string,
  input: DownloadInput,
  options: { signal?: AbortSignal } = {},
): Promise<daemonDownload.DownloadTaskResponse[]> {
  const client = downloadClient(socket);
  const responses: daemonDownload.DownloadTaskResponse[] = [];
  const stream = serverStream(
    client,
    "downloadTask",
    daemonDownload.DownloadTaskRequest.create({ download: common.Download.create(input) }),
    { deadlineMs: 60_000, ...(options.signal ? { signal: options.signal } : {}) },
  );
  for await (const response of stream) responses.push(response);
  return responses;
}

/**
 * The task ID a download of `input.url` from `origin` gets now: a daemon asks the
 * origin for its validators first and names the task by them (task/revalidation.ts).
 */
export function currentTaskId(origin: OriginServer, input: DownloadInput & { url: string }): string {
  const version = encodeVersion(origin.validatorsOf(new URL(input.url).pathname));
  return identify(common.Download.create({ ...input, version: version ?? "" })).taskId;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Response kinds in order, e.g. ["started", "pieceFinished", …, "finished"]. */
export function kinds(responses: readonly daemonDownload.DownloadTaskResponse[]): string[] {
  return responses.map((response) => response.response?.$case ?? "none");
}

export function pieces(responses: readonly daemonDownload.DownloadTaskResponse[]): common.Piece[] {
  return responses.flatMap((response) => (response.response?.$case === "pieceFinished" ? [response.response.value.piece!] : []));
}

/** Polls `check` every 20 ms until it holds or `ms` pass. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
