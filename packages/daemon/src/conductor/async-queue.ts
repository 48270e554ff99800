/**
 * An unbounded queue read as an async iterator: producers push from callbacks, one
 * consumer awaits. Ends after `end()` once drained; `fail()` ends it with an error
 * after the items already queued. Progress events are small and few (one per piece),
 * so no bound is needed.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  #ended = false;
  #error: unknown;
  #failed = false;
  #wake: (() => void) | undefined;
  readonly #onReturn: (() => void) | undefined;

  /** `onReturn` runs when the consumer stops early (break, throw, return). */
  constructor(onReturn?: () => void) {
    this.#onReturn = onReturn;
  }

  get closed(): boolean {
    return this.#ended || this.#failed;
  }

  push(item: T): void {
    if (this.closed) return;
    this.#items.push(item);
    this.#wakeUp();
  }

  end(): void {
    if (this.closed) return;
    this.#ended = true;
    this.#wakeUp();
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.#failed = true;
    this.#error = error;
    this.#wakeUp();
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#items.length > 0) return { value: this.#items.shift() as T, done: false };
      if (this.#failed) throw this.#error;
      if (this.#ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<T>> {
    const wasOpen = !this.closed;
    this.#ended = true;
    this.#items.length = 0;
    this.#wakeUp();
    if (wasOpen) this.#onReturn?.();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
