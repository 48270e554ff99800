import { common, daemonDownload } from "@df/rpc";
import type { Task as StoredTask } from "@df/storage";
import type { DownloadEvent, PieceInfo } from "../conductor/events.js";

/** The progress oneof both DownloadTask services share (same shapes, two packages). */
export type ProgressResponse = NonNullable<daemonDownload.DownloadTaskResponse["response"]>;

export interface ProgressOptions {
  /** Put each piece's bytes in its message (dfget -O -). */
  needPieceContent: boolean;
  /**
   * Runs between the last piece and `finished` (export the output, check the digest);
   * returns the output path to report, if any.
   */
  beforeFinish?: (task: StoredTask) => Promise<string | undefined>;
}

const trafficTypes = {
  "back-to-source": common.TrafficType.BACK_TO_SOURCE,
  "remote-peer": common.TrafficType.REMOTE_PEER,
  "local-peer": common.TrafficType.LOCAL_PEER,
} as const;

async function pieceMessage(piece: PieceInfo, task: StoredTask, withContent: boolean): Promise<common.Piece> {
  return common.Piece.create({
    number: piece.number,
    ...(piece.parentId ? { parentId: piece.parentId } : {}),
    offset: piece.offset,
    length: piece.length,
    digest: piece.digest,
    trafficType: trafficTypes[piece.traffic],
    costMs: piece.costMs,
    createdAt: piece.createdAt,
    ...(withContent ? { content: await task.readPiece(piece.number) } : {}),
  });
}

/**
 * Holds finished pieces back until every piece before them went out, so that a client
 * streaming the bytes (dfget -O -) receives them in order and needs no reorder buffer.
 * Only piece metadata waits here; the bytes are read from storage when a piece is sent.
 */
class InOrder {
  readonly #waiting = new Map<number, PieceInfo>();
  #next: number;

  constructor(first: number) {
    this.#next = first;
  }

  add(piece: PieceInfo): PieceInfo[] {
    this.#waiting.set(piece.number, piece);
    const ready: PieceInfo[] = [];
    for (let next = this.#waiting.get(this.#next); next; next = this.#waiting.get(this.#next)) {
      this.#waiting.delete(this.#next);
      ready.push(next);
      this.#next++;
    }
    return ready;
  }
}

/**
 * Turns one client's download events into DownloadTask responses. With piece content,
 * pieces already on this host are sent one message each (as LOCAL_PEER pieces) rather
 * than inside `started`: a whole task in one message could pass any message limit. With
 * content, pieces go out in piece order (see InOrder); without, as they finish.
 */
export async function* progressResponses(
  events: AsyncIterable<DownloadEvent>,
  options: ProgressOptions,
): AsyncGenerator<ProgressResponse, void, undefined> {
  let task: StoredTask | undefined;
  let order: InOrder | undefined;
  for await (const event of events) {
    switch (event.kind) {
      case "started": {
        task = event.task;
        yield {
          $case: "started",
          value: daemonDownload.DownloadTaskStartedResponse.create({
            contentLength: event.contentLength,
            pieceLength: event.pieceLength,
            pieceCount: event.pieceCount,
            ...(event.range ? { range: common.Range.create(event.range) } : {}),
            responseHeader: { ...event.responseHeader },
            pieces: options.needPieceContent ? [] : await Promise.all(event.localPieces.map((piece) => pieceMessage(piece, event.task, false))),
            isFinished: event.isFinished,
          }),
        };
        if (options.needPieceContent) {
          const first = event.range && event.pieceLength > 0 ? Math.floor(event.range.start / event.pieceLength) : 0;
          order = new InOrder(first);
          for (const local of event.localPieces) {
            for (const piece of order.add(local)) {
              yield { $case: "pieceFinished", value: { piece: await pieceMessage(piece, event.task, true) } };
            }
          }
        }
        break;
      }
      case "piece":
        if (order) {
          for (const piece of order.add(event.piece)) {
            yield { $case: "pieceFinished", value: { piece: await pieceMessage(piece, task as StoredTask, true) } };
          }
        } else {
          yield { $case: "pieceFinished", value: { piece: await pieceMessage(event.piece, task as StoredTask, false) } };
        }
        break;
      case "finished": {
        const outputPath = await options.beforeFinish?.(event.task);
        yield {
          $case: "finished",
          value: daemonDownload.DownloadTaskFinishedResponse.create({
            contentLength: event.contentLength,
            pieceCount: event.pieceCount,
            ...(outputPath ? { outputPath } : {}),
            costMs: event.costMs,
          }),
        };
        break;
      }
    }
  }
}
