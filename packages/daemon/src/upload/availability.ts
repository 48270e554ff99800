import type { ArrivingPiece, Piece, Task } from "@df/storage";

/** A piece as SyncPieces announces it: held, or arriving (its bytes served as they land). */
export interface Announced {
  number: number;
  offset: number;
  length: number;
  digest: string;
  arriving: boolean;
  /**
   * Held, and announced arriving to this child before from the arrival that stored it:
   * the child knows it already, so it counts toward the end but is not sent again.
   */
  implied?: boolean;
}

/**
 * The pieces of `task` a child may ask for: every held piece (those already there
 * first), and every piece that is arriving with cut-through (those arriving now first),
 * each new one as it starts. A piece announced arriving whose arrival then stores it is
 * `implied` when held (the child asks for it the same way either way: one message
 * fewer per piece and child); one whose arrival failed is announced anew when it comes.
 * Ends once every piece was seen held; fails as `task.watchPieces` does (the caller
 * aborts `signal` when it stops reading).
 */
export async function* watchAvailability(task: Task, signal: AbortSignal): AsyncGenerator<Announced, void, undefined> {
  const queue: Announced[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: unknown;
  const push = (item: Announced): void => {
    queue.push(item);
    wake?.();
  };
  const announced = new Map<number, ArrivingPiece>();
  const onArrival = (piece: ArrivingPiece): void => {
    announced.set(piece.number, piece);
    push(arriving(piece));
  };
  const unsubscribe = task.onArriving(onArrival);
  for (const piece of task.arrivingPieces()) onArrival(piece);
  void (async () => {
    try {
      for await (const piece of task.watchPieces({ signal })) push(held(piece));
    } catch (error) {
      failure = error;
    } finally {
      ended = true;
      wake?.();
    }
  })();
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        if (next.arriving) {
          // Stored meanwhile: its held announcement is queued (or sent) already.
          if (task.hasPiece(next.number)) {
            announced.delete(next.number);
            continue;
          }
        } else {
          const arrival = announced.get(next.number);
          // Held through the arrival this child heard of (it stored it, or is storing it
          // now: the held event comes first).
          if (arrival && arrival.failure === undefined) next.implied = true;
        }
        yield next;
        continue;
      }
      if (ended) {
        if (failure !== undefined) throw failure;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    unsubscribe();
  }
}

/** Held pieces only, in the same shape (for children that did not ask for arrivals). */
export async function* watchHeld(task: Task, signal: AbortSignal): AsyncGenerator<Announced, void, undefined> {
  for await (const piece of task.watchPieces({ signal })) yield held(piece);
}

function held(piece: Piece): Announced {
  return { number: piece.number, offset: piece.offset, length: piece.length, digest: piece.digest, arriving: false };
}

function arriving(piece: ArrivingPiece): Announced {
  return { number: piece.number, offset: piece.offset, length: piece.length, digest: piece.digest, arriving: true };
}
