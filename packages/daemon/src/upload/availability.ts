import type { ArrivingPiece, Piece, Task } from "@df/storage";

/** A piece as SyncPieces announces it: held, or arriving (its bytes served as they land). */
export interface Announced {
  number: number;
  offset: number;
  length: number;
  digest: string;
  arriving: boolean;
}

/**
 * The pieces of `task` a child may ask for: every held piece (those already there
 * first), and every piece that is arriving with cut-through (those arriving now first),
 * each new one as it starts. A piece is announced arriving at most until it is held.
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
  const unsubscribe = task.onArriving((piece) => push(arriving(piece)));
  for (const piece of task.arrivingPieces()) push(arriving(piece));
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
        // Stored meanwhile: its held announcement is queued (or sent) already.
        if (next.arriving && task.hasPiece(next.number)) continue;
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
