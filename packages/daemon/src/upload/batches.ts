/**
 * Gathers the items of `source` into arrays of at most `max`: each batch takes its first
 * item, everything the source has ready at once (a replay of held pieces arrives in
 * one go), and what else arrives within `windowMs` of that first item. The first batch
 * (what the source holds when the stream opens) goes at once, without the window; a
 * window of 0 only ever gathers what is ready. One message per batch instead of per item is what makes
 * an announcement channel cheap when many pieces land close together. A reader that
 * stops early is not held up; the source is closed once a read still waiting on it
 * settles, so a source that may wait long should also stop on a signal of its own.
 */
export async function* inBatches<T>(source: AsyncIterable<T>, windowMs: number, max: number): AsyncGenerator<T[], void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  let opening = true;
  try {
    for (;;) {
      pending ??= iterator.next();
      const first = await pending;
      pending = undefined;
      if (first.done === true) return;
      const batch: T[] = [first.value];
      const window = windowClosing(opening ? 0 : windowMs);
      opening = false;
      try {
        while (batch.length < max) {
          pending ??= iterator.next();
          const next = await Promise.race([pending, window.closed]);
          if (next === CLOSED) break;
          pending = undefined;
          if (next.done === true) {
            yield batch;
            return;
          }
          batch.push(next.value);
        }
      } finally {
        window.cancel();
      }
      yield batch;
    }
  } finally {
    // A next() still out settles once the source ends (its own signal stops it).
    pending?.catch(() => {});
    void Promise.resolve()
      .then(() => iterator.return?.())
      .catch(() => {});
  }
}

const CLOSED = Symbol("window closed");

/** A promise of CLOSED after `ms` (after the current I/O turn when 0), and its cancel. */
function windowClosing(ms: number): { closed: Promise<typeof CLOSED>; cancel: () => void } {
  let cancel = (): void => {};
  const closed = new Promise<typeof CLOSED>((resolve) => {
    if (ms <= 0) {
      const immediate = setImmediate(() => resolve(CLOSED));
      cancel = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => resolve(CLOSED), ms);
      cancel = () => clearTimeout(timer);
    }
  });
  return { closed, cancel };
}
