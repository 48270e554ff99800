import { SingleBar } from "cli-progress";

export type ByteSource = "origin" | "seed" | "peers" | "local";

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Progress on stderr (stdout may carry the file): a bar on a terminal, a plain line
 * every 10 % elsewhere, and a closing summary that says where the bytes came from.
 */
export class Progress {
  readonly #bar: SingleBar | undefined;
  readonly #plain: boolean;
  readonly #bySource: Record<ByteSource, number> = { origin: 0, seed: 0, peers: 0, local: 0 };
  readonly #startedAt = performance.now();
  #total = 0;
  #done = 0;
  #lastDecile = -1;

  constructor(
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.#plain = enabled && !stream.isTTY;
    if (enabled && stream.isTTY) {
      this.#bar = new SingleBar({
        stream,
        format: "{bar} {percentage}% | {done}/{size} | {speed} | {sources}",
        hideCursor: true,
        barsize: 30,
        etaBuffer: 20,
      });
    }
  }

  get bySource(): Readonly<Record<ByteSource, number>> {
    return this.#bySource;
  }

  start(total: number): void {
    this.#total = total;
    this.#bar?.start(Math.max(total, 1), 0, this.#payload());
  }

  advance(bytes: number, source: ByteSource): void {
    this.#done += bytes;
    this.#bySource[source] += bytes;
    this.#bar?.update(Math.min(this.#done, Math.max(this.#total, 1)), this.#payload());
    if (this.#plain && this.#total > 0) {
      const decile = Math.floor((this.#done / this.#total) * 10);
      if (decile > this.#lastDecile) {
        this.#lastDecile = decile;
        this.stream.write(`dfget: ${decile * 10}% (${mib(this.#done)} of ${mib(this.#total)})\n`);
      }
    }
  }

  /** Stops the bar; the summary line is printed even with progress off (it is one line). */
  finish(what: string): void {
    this.#bar?.stop();
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const rate = seconds > 0 ? `${(this.#done / 1e6 / seconds).toFixed(1)} MB/s` : "";
    this.stream.write(`dfget: ${what} (${mib(this.#done)} in ${seconds.toFixed(2)} s, ${rate}; ${this.#sources()})\n`);
  }

  abort(): void {
    this.#bar?.stop();
  }

  #payload(): Record<string, string> {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    return {
      done: mib(this.#done),
      size: mib(this.#total),
      speed: seconds > 0 ? `${(this.#done / 1e6 / seconds).toFixed(1)} MB/s` : "-",
      sources: this.#sources(),
    };
  }

  #sources(): string {
    const parts = (Object.keys(this.#bySource) as ByteSource[])
      .filter((source) => this.#bySource[source] > 0)
      .map((source) => `${source} ${mib(this.#bySource[source])}`);
    return parts.length > 0 ? `from ${parts.join(", ")}` : "nothing transferred";
  }
}
