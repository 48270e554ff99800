import { DfError, hasErrorCode } from "@df/interface/errors";
import { common, daemonDownload, unary, type RpcClient } from "@df/rpc";
import { cacheTaskId, cacheUrl } from "./cache-id.js";
import { absolute, type CacheOptions } from "./options.js";
import { CacheProgress } from "./progress.js";

export type Client = RpcClient<daemonDownload.DfdaemonDownloadService, daemonDownload.DfdaemonDownloadClient>;

/** What a command reports: one line for people, one object for --json. */
export interface Outcome {
  found: boolean;
  line: string;
  json: Record<string, unknown>;
}

const PERSISTENT_CACHE = common.TaskType.PERSISTENT_CACHE;

function naming(options: CacheOptions) {
  return { url: cacheUrl(options.cid), type: PERSISTENT_CACHE, ...(options.tag ? { tag: options.tag } : {}) };
}

function callOptions(options: CacheOptions, signal: AbortSignal) {
  return { signal, ...(options.timeoutMs ? { deadlineMs: options.timeoutMs } : {}) };
}

function base(options: CacheOptions): Record<string, unknown> {
  return { cid: options.cid, ...(options.tag ? { tag: options.tag } : {}), taskId: cacheTaskId(options.cid, options.tag) };
}

export async function importCommand(client: Client, options: CacheOptions, file: string, signal: AbortSignal): Promise<Outcome> {
  const path = absolute(file);
  const progress = new CacheProgress("import", options.progress);
  progress.watch(client, cacheTaskId(options.cid, options.tag));
  const startedAt = performance.now();
  try {
    const answer = await unary(client, "importTask", daemonDownload.ImportTaskRequest.create({ path, ...naming(options) }), callOptions(options, signal));
    const ms = performance.now() - startedAt;
    const length = answer.task?.contentLength ?? 0;
    return {
      found: true,
      line: `imported ${path} as ${options.cid} (task ${answer.task?.id}, ${length} bytes, ${answer.task?.pieceCount ?? 0} pieces) in ${ms.toFixed(0)} ms`,
      json: { ...base(options), operation: "import", path, contentLength: length, pieceCount: answer.task?.pieceCount ?? 0, ms },
    };
  } finally {
    progress.stop();
  }
}

export async function statCommand(client: Client, options: CacheOptions, local: boolean, signal: AbortSignal): Promise<Outcome> {
  const json = { ...base(options), operation: "stat", local };
  let task: common.Task | undefined;
  try {
    task = (await unary(client, "statTask", daemonDownload.StatTaskRequest.create({ ...naming(options), localOnly: local }), callOptions(options, signal))).task;
  } catch (error) {
    if (!hasErrorCode(error, "NOT_FOUND")) throw error;
  }
  // Found means exportable: complete, and held by a live peer (this one or another).
  const found = task !== undefined && task.state === common.TaskState.SUCCEEDED && task.hasAvailablePeer;
  if (!found) {
    return { found, line: `${options.cid}${options.tag ? ` (tag ${options.tag})` : ""} is not in the P2P cache${local ? " of this host" : ""}`, json: { ...json, found } };
  }
  return {
    found,
    line: `${options.cid} is available: ${task!.contentLength} bytes in ${task!.pieceCount} pieces, ${task!.peerCount} peer(s)`,
    json: { ...json, found, contentLength: task!.contentLength, pieceCount: task!.pieceCount, peerCount: task!.peerCount },
  };
}

export async function exportCommand(
  client: Client,
  options: CacheOptions,
  flags: { output: string; local: boolean; overwrite: boolean },
  signal: AbortSignal,
): Promise<Outcome> {
  const output = absolute(flags.output);
  const progress = new CacheProgress("export", options.progress);
  progress.watch(client, cacheTaskId(options.cid, options.tag));
  const startedAt = performance.now();
  try {
    const answer = await unary(
      client,
      "exportTask",
      daemonDownload.ExportTaskRequest.create({
        ...naming(options),
        outputPath: output,
        overwrite: flags.overwrite,
        localOnly: flags.local,
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      }),
      callOptions(options, signal),
    );
    const ms = performance.now() - startedAt;
    return {
      found: true,
      line: `exported ${options.cid} to ${answer.outputPath} (${answer.contentLength} bytes) in ${ms.toFixed(0)} ms`,
      json: { ...base(options), operation: "export", output: answer.outputPath, contentLength: answer.contentLength, ms },
    };
  } finally {
    progress.stop();
  }
}

export async function deleteCommand(client: Client, options: CacheOptions, remote: boolean, signal: AbortSignal): Promise<Outcome> {
  await unary(client, "deleteTask", daemonDownload.DeleteTaskRequest.create({ ...naming(options), remote }), callOptions(options, signal));
  return {
    found: true,
    line: `deleted ${options.cid} from this host${remote ? " and told the scheduler" : ""}`,
    json: { ...base(options), operation: "delete", remote },
  };
}

/**
 * Removes every task of an origin URL (downloaded with dfget, any version of its
 * content) from this host, so the next download fetches it anew.
 */
export async function deleteUrlCommand(client: Client, options: CacheOptions, remote: boolean, signal: AbortSignal): Promise<Outcome> {
  const url = options.url!;
  await unary(
    client,
    "deleteTask",
    daemonDownload.DeleteTaskRequest.create({
      url,
      type: common.TaskType.STANDARD,
      ...(options.tag ? { tag: options.tag } : {}),
      ...(options.application ? { application: options.application } : {}),
      remote,
    }),
    callOptions(options, signal),
  );
  return {
    found: true,
    line: `deleted ${url}${options.tag ? ` (tag ${options.tag})` : ""} from this host${remote ? " and told the scheduler" : ""}`,
    json: { url, ...(options.tag ? { tag: options.tag } : {}), ...(options.application ? { application: options.application } : {}), operation: "delete", remote },
  };
}

/** An error a script should see as "not found" rather than "failed". */
export function isNotFound(error: unknown): boolean {
  return error instanceof DfError ? error.code === "NOT_FOUND" : hasErrorCode(error, "NOT_FOUND");
}
