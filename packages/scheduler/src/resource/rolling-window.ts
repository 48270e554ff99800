/**
 * The newest `capacity` numbers, oldest first, in a ring buffer: piece costs are appended
 * on every finished piece, so this must not copy or grow.
 */
export class RollingWindow {
  readonly #buffer: Float64Array;
  #start = 0;
  #length = 0;

  constructor(readonly capacity: number) {
    this.#buffer = new Float64Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  push(value: number): void {
    if (this.#length < this.capacity) {
      this.#buffer[(this.#start + this.#length) % this.capacity] = value;
      this.#length++;
    } else {
      this.#buffer[this.#start] = value;
      this.#start = (this.#start + 1) % this.capacity;
    }
  }

  /** A copy, oldest first. */
  toArray(): number[] {
    const out = new Array<number>(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = this.#buffer[(this.#start + i) % this.capacity]!;
    return out;
  }
}
