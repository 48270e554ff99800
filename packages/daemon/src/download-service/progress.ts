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
  /**
   * Also report the bytes of pieces still arriving, this often (ms), when they changed:
   * a 4 MiB piece from a slow origin takes seconds, and a display fed only whole pieces
   * stands still meanwhile. Unset: whole pieces only.
   */
  byteProgressEveryMs?: number;
}

const trafficTypes = {
  "back-to-source": common.TrafficType.BACK_TO_SOURCE,
  "remote-peer": common.TrafficType.REMOTE_PEER,
  "local-peer": common.TrafficType.LOCAL_PEER,
} as const;

function pieceMessage(piece: PieceInfo): common.Piece {
  return common.Piece.create({
    number: piece.number,
    ...(piece.parentId ? { parentId: piece.parentId } : {}),
    offset: piece.offset,
    length: piece.length,
    digest: piece.digest,
    trafficType: trafficTypes[piece.traffic],
    costMs: piece.costMs,
    createdAt: piece.createdAt,
  });
}

/** The most piece content one message carries; see contentMessages. */
export const CONTENT_SLICE_BYTES = 2 ** 20;

/**
 * A piece's bytes as messages of at most CONTENT_SLICE_BYTES, each naming the piece and
 * giving the offset and length of its own slice (the piece's digest only on a message
 * holding the whole piece). Read from storage a slice at a time: with the server
 * stream's one message in flight (see pipeToStream), a slow reader holds a couple of MiB
 * here, never a piece of up to 64 MiB or a queue of them.
 */
async function* contentMessages(piece: PieceInfo, task: StoredTask): AsyncGenerator<ProgressResponse, void, undefined> {
  const whole = piece.length <= CONTENT_SLICE_BYTES;
  let offset = piece.offset;
  for await (const content of task.read({ start: piece.offset, length: piece.length }, { chunkSize: CONTENT_SLICE_BYTES })) {
    const slice = common.Piece.create({
      number: piece.number,
      ...(piece.parentId ? { parentId: piece.parentId } : {}),
      offset,
      length: content.byteLength,
      digest: whole ? piece.digest : "",
      trafficType: trafficTypes[piece.traffic],
      costMs: piece.costMs,
      createdAt: piece.createdAt,
      content,
    });
    offset += content.byteLength;
    yield { $case: "pieceFinished", value: { piece: slice } };
  }
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

  /** Bytes of finished pieces held back behind a missing one. */
  get heldBytes(): number {
    let bytes = 0;
    for (const piece of this.#waiting.values()) bytes += piece.length;
    return bytes;
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
 * content, pieces go out in piece order (see InOrder), in slices (see contentMessages);
 * without, as they finish.
 */
export async function* progressResponses(
  events: AsyncIterable<DownloadEvent>,
  options: ProgressOptions,
): AsyncGenerator<ProgressResponse, void, undefined> {
  let task: StoredTask | undefined;
  let order: InOrder | undefined;
  let wanted = { from: 0, to: 0 };
  let reported = 0;
  for await (const next of ticking(events, options.byteProgressEveryMs)) {
    if (next === TICK) {
      if (!task) continue;
      const receiving = task.receivingBytes(wanted.from, wanted.to) + (order?.heldBytes ?? 0);
      if (receiving === reported) continue;
      reported = receiving;
      yield { $case: "progress", value: daemonDownload.DownloadTaskProgressResponse.create({ receivingBytes: receiving }) };
      continue;
    }
    const event = next;
    switch (event.kind) {
      case "started": {
        task = event.task;
        wanted = wantedPieces(event.range, event.pieceLength, event.pieceCount);
        yield {
          $case: "started",
          value: daemonDownload.DownloadTaskStartedResponse.create({
            contentLength: event.contentLength,
            pieceLength: event.pieceLength,
            pieceCount: event.pieceCount,
            ...(event.range ? { range: common.Range.create(event.range) } : {}),
            responseHeader: { ...event.responseHeader },
            pieces: options.needPieceContent ? [] : event.localPieces.map(pieceMessage),
            isFinished: event.isFinished,
          }),
        };
        if (options.needPieceContent) {
          const first = event.range && event.pieceLength > 0 ? Math.floor(event.range.start / event.pieceLength) : 0;
          order = new InOrder(first);
          for (const local of event.localPieces) {
            for (const piece of order.add(local)) yield* contentMessages(piece, event.task);
          }
        }
        break;
      }
      case "piece":
        if (order) {
          for (const piece of order.add(event.piece)) yield* contentMessages(piece, task as StoredTask);
        } else {
          yield { $case: "pieceFinished", value: { piece: pieceMessage(event.piece) } };
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

const TICK = Symbol("tick");

/**
 * The items of `source`, with TICK in between whenever `everyMs` pass without one (the
 * pending read carries over, so no item is lost or reordered). No ticks when unset.
 */
async function* ticking<T>(source: AsyncIterable<T>, everyMs: number | undefined): AsyncGenerator<T | typeof TICK, void, undefined> {
  if (everyMs === undefined) {
    yield* source;
    return;
  }
  const iterator = source[Symbol.asyncIterator]();
  try {
    let pending = iterator.next();
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<typeof TICK>((resolve) => (timer = setTimeout(() => resolve(TICK), everyMs)));
      const won = await Promise.race([pending, tick]).finally(() => clearTimeout(timer));
      if (won === TICK) {
        yield TICK;
        continue;
      }
      if (won.done === true) return;
      yield won.value;
      pending = iterator.next();
    }
  } finally {
    await iterator.return?.();
  }
}

/** The piece numbers [from, to) a download wants: its range's, else all. */
function wantedPieces(range: { start: number; length: number } | undefined, pieceLength: number, pieceCount: number): { from: number; to: number } {
  if (!range || pieceLength <= 0) return { from: 0, to: pieceCount };
  const from = Math.floor(range.start / pieceLength);
  const to = range.length > 0 ? Math.ceil((range.start + range.length) / pieceLength) : pieceCount;
  return { from, to: Math.min(to, pieceCount) };
}
