import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { DfError } from "@df/interface/errors";
import { DigestVerifier } from "@df/piece";
import { common, daemonDownload } from "@df/rpc";
import { serverStreamCall, UNREACHABLE } from "@df/rpc/lite";
import type { DfgetOptions } from "./options.js";
import { OrderedWriter } from "./ordered-writer.js";
import { reclaimer } from "./reclaim.js";
import type { ByteSource, Progress } from "./progress.js";

/** Checked against the generated service by type only, so the bundle keeps none of grpc-js. */
const DOWNLOAD_TASK_PATH: daemonDownload.DfdaemonDownloadService["downloadTask"]["path"] = "/df.daemon.download.v1.DfdaemonDownload/DownloadTask";

/** The daemon did not answer at all: the caller may fetch directly instead. */
export class DaemonUnreachable extends Error {
  override readonly name = "DaemonUnreachable";
}

/** Seed peers' IDs end in `-seed` (Dragonfly's peer ID rule), so their bytes can be told apart. */
const sourceOf = (piece: common.Piece): ByteSource =>
  piece.trafficType === common.TrafficType.BACK_TO_SOURCE
    ? "origin"
    : piece.trafficType === common.TrafficType.LOCAL_PEER
      ? "local"
      : piece.parentId?.endsWith("-seed")
        ? "seed"
        : "peers";

/** `start-end` or `start-` as a Download range; `-suffix` needs the length, which only the daemon knows. */
function toRange(spec: string | undefined): common.Range | undefined {
  if (!spec) return undefined;
  const [startText, endText] = spec.split("-");
  if (!startText) {
    throw new DfError("INVALID_ARGUMENT", `suffix ranges (-N) are not supported through the daemon yet; use start-end`);
  }
  const start = Number(startText);
  // Length 0 with an open end means "to the end of the content".
  return { start, length: endText ? Number(endText) - start + 1 : 0 };
}

export interface DaemonResult {
  taskId: string;
  contentLength: number;
}

/** Downloads through the local dfdaemon, streaming progress; the file lands at the output path. */
export async function downloadViaDaemon(options: DfgetOptions, progress: Progress, signal: AbortSignal): Promise<DaemonResult> {
  const toStdout = options.output === "-";
  const range = toRange(options.range);
  const download = common.Download.create({
    url: options.url,
    ...(options.digest && !toStdout ? { digest: options.digest } : {}),
    ...(range ? { range } : {}),
    type: common.TaskType.STANDARD,
    ...(options.tag ? { tag: options.tag } : {}),
    ...(options.application ? { application: options.application } : {}),
    priority: options.priority === undefined ? common.Priority.UNSPECIFIED : options.priority + 1,
    filteredQueryParams: options.filteredQueryParams,
    requestHeader: options.header,
    ...(options.pieceLength ? { pieceLength: options.pieceLength } : {}),
    ...(toStdout ? {} : { outputPath: options.output }),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    disableBackToSource: options.disableBackToSource,
    overwrite: options.overwrite,
    forceHardLink: options.hardLink,
    needPieceContent: toStdout,
  });
  let writer: OrderedWriter | undefined;
  const reclaim = toStdout ? reclaimer(2 ** 21) : undefined;
  // The bytes this download delivers (the range, else the whole content): progress counts
  // only a piece's part inside it, so a 100-byte range never shows as a 4 MiB piece.
  let span = { start: 0, end: Number.POSITIVE_INFINITY };
  const verifier = toStdout && options.digest && !range ? new DigestVerifier(options.digest) : undefined;
  let answered = false;
  let result: DaemonResult | undefined;
  try {
    // DownloadTask over a small HTTP/2 client rather than grpc-js, which took a third
    // of dfget's start-up to load (see @df/rpc/lite).
    const stream = serverStreamCall({
      endpoint: options.endpoint,
      path: DOWNLOAD_TASK_PATH,
      request: daemonDownload.DownloadTaskRequest.encode(daemonDownload.DownloadTaskRequest.create({ download, byteProgress: options.progress })).finish(),
      signal,
      ...(options.timeoutMs ? { deadlineMs: options.timeoutMs } : {}),
    });
    for await (const bytes of stream) {
      answered = true;
      const message = daemonDownload.DownloadTaskResponse.decode(bytes);
      const event = message.response;
      if (!event) continue;
      if (event.$case === "started") {
        const started = event.value;
        const total = started.range ? started.range.length : started.contentLength;
        const start = started.range?.start ?? 0;
        span = { start, end: start + total };
        progress.start(total);
        if (toStdout) {
          writer = new OrderedWriter(process.stdout, { start, end: start + total }, 256 * 2 ** 20, (chunk) => verifier?.update(chunk));
        }
        for (const piece of started.pieces) await take(piece, "local");
        result = { taskId: message.taskId, contentLength: started.contentLength };
      } else if (event.$case === "pieceFinished" && event.value.piece) {
        await take(event.value.piece, sourceOf(event.value.piece));
      } else if (event.$case === "progress") {
        progress.receiving(event.value.receivingBytes);
      } else if (event.$case === "finished") {
        result = { taskId: message.taskId, contentLength: event.value.contentLength };
      }
    }
  } catch (error) {
    // Only a failure to reach the daemon: an UNAVAILABLE the daemon reported (the origin
    // refused it) is the origin's, and fetching directly would only hit the origin again.
    if (!answered && (error as DfError).reason === UNREACHABLE) {
      throw new DaemonUnreachable(`no dfdaemon answers at ${options.endpoint}`, { cause: error });
    }
    throw error;
  }
  if (!result) throw new DfError("INTERNAL", "the daemon ended the download without saying it finished");
  if (writer && writer.written !== writer.expected) {
    throw new DfError("DATA_LOSS", `the daemon delivered ${writer.written} of ${writer.expected} bytes to standard output`);
  }
  verifier?.verify();
  if (options.digest && !toStdout && !download.digest) await verifyFile(options.output, options.digest);
  return result;

  async function take(piece: common.Piece, source: ByteSource): Promise<void> {
    const inside = Math.min(piece.offset + piece.length, span.end) - Math.max(piece.offset, span.start);
    if (inside > 0) progress.advance(inside, source);
    if (!writer) return;
    if (!piece.content) throw new DfError("INTERNAL", `the daemon sent piece ${piece.number} without its bytes`);
    await writer.add(piece.offset, piece.content);
    reclaim?.(piece.content.byteLength);
  }
}

async function verifyFile(path: string, digest: string): Promise<void> {
  const verifier = new DigestVerifier(digest);
  await pipeline(createReadStream(path, { highWaterMark: 4 * 2 ** 20 }), async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) verifier.update(chunk);
  });
  verifier.verify();
}
