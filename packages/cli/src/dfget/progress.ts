import { formatBytes, formatDuration, formatRate } from "./human.js";

export type ByteSource = "origin" | "seed" | "peers" | "local";

/** Where progress goes: stderr, or a stand-in in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressTiming {
  /** How often the terminal line is redrawn (default 250 ms). */
  tickMs?: number;
  /** How often a plain line is printed when stderr is not a terminal (default 3 s). */
  plainEveryMs?: number;
}

/** The rate is what the last few seconds moved, so a stall shows at once and a burst fades. */
const RATE_WINDOW_MS = 5000;
const BAR_WIDTH = 24;

/**
 * Progress on stderr (stdout may carry the file), driven by a clock rather than by
 * pieces, so a slow origin still moves: on a terminal a line redrawn every 250 ms with
 * the bytes, rate and ETA; elsewhere (a log, CI) one plain line every few seconds; and
 * a closing summary that says where the bytes came from. Bytes counted are those the
 * daemon reports, whole pieces and the received part of pieces still arriving.
 */
export class Progress {
  readonly #bySource: Record<ByteSource, number> = { origin: 0, seed: 0, peers: 0, local: 0 };
  readonly #startedAt = performance.now();
  readonly #tty: boolean;
  readonly #timing: Required<ProgressTiming>;
  /** (time, bytes shown) once per tick, the last RATE_WINDOW_MS of them. */
  readonly #samples: Array<{ at: number; bytes: number }> = [];
  #timer: NodeJS.Timeout | undefined;
  #lastPlainAt = 0;
  #total = 0;
  #done = 0;
  /** Received bytes of pieces not finished yet, as last reported. */
  #partial = 0;
  #drawn = false;

  constructor(
    private readonly enabled: boolean,
    private readonly stream: ProgressStream = process.stderr,
    timing: ProgressTiming = {},
  ) {
    this.#tty = stream.isTTY === true;
    this.#timing = { tickMs: timing.tickMs ?? 250, plainEveryMs: timing.plainEveryMs ?? 3000 };
  }

  get bySource(): Readonly<Record<ByteSource, number>> {
    return this.#bySource;
  }

  /** Bytes delivered so far, whole pieces and the arriving part of others. */
  get shown(): number {
    const bytes = this.#done + this.#partial;
    return this.#total > 0 ? Math.min(bytes, this.#total) : bytes;
  }

  /** `total` 0: the size is not known. */
  start(total: number): void {
    this.#total = total;
    if (!this.enabled || this.#timer) return;
    this.#lastPlainAt = performance.now();
    this.#sample();
    const tick = this.#tty ? this.#timing.tickMs : Math.min(this.#timing.tickMs, this.#timing.plainEveryMs);
    this.#timer = setInterval(() => this.#tick(), tick);
    // Progress never keeps dfget alive.
    this.#timer.unref();
    if (this.#tty) this.#draw();
  }

  /** `bytes` more finished, from `source`. */
  advance(bytes: number, source: ByteSource): void {
    this.#done += bytes;
    this.#bySource[source] += bytes;
    // These bytes were (mostly) among those reported as arriving; the daemon's next
    // report settles it, meanwhile the display does not count them twice.
    this.#partial = Math.max(0, this.#partial - bytes);
  }

  /** The daemon's count of bytes received in pieces not finished yet. */
  receiving(bytes: number): void {
    this.#partial = Math.max(0, bytes);
  }

  /** Stops the line; the summary line is printed even with progress off (it is one line). */
  finish(what: string): void {
    this.#stop();
    this.#partial = 0;
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const rate = seconds > 0 ? `, ${formatRate(this.#done / seconds)}` : "";
    this.stream.write(`dfget: ${what} (${formatBytes(this.#done)} in ${seconds.toFixed(2)} s${rate}; ${this.#sources()})\n`);
  }

  abort(): void {
    this.#stop();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawn) this.stream.write("\r\x1b[K");
    this.#drawn = false;
  }

  #tick(): void {
    this.#sample();
    if (this.#tty) {
      this.#draw();
      return;
    }
    const now = performance.now();
    if (now - this.#lastPlainAt < this.#timing.plainEveryMs) return;
    this.#lastPlainAt = now;
    this.stream.write(`dfget: ${this.#status()}\n`);
  }

  #sample(): void {
    const at = performance.now();
    this.#samples.push({ at, bytes: this.shown });
    while (this.#samples.length > 2 && at - (this.#samples[0] as { at: number }).at > RATE_WINDOW_MS) this.#samples.shift();
  }

  /** Bytes per second over the window; undefined before there is a window to speak of. */
  #rate(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last || last.at - first.at < 200) return undefined;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }

  #status(): string {
    const shown = this.shown;
    const rate = this.#rate();
    const speed = rate === undefined ? "" : `, ${formatRate(rate)}`;
    if (this.#total <= 0) return `${formatBytes(shown)} so far${speed}`;
    const percent = Math.floor((shown / this.#total) * 100);
    const left = this.#total - shown;
    const eta = left <= 0 ? "" : rate && rate > 0 ? `, ETA ${formatDuration(left / rate)}` : rate === 0 ? ", stalled" : "";
    return `${percent}% (${formatBytes(shown)} of ${formatBytes(this.#total)}${speed}${eta})`;
  }

  #draw(): void {
    const fraction = this.#total > 0 ? Math.min(1, this.shown / this.#total) : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    this.stream.write(`\r\x1b[K${bar} ${this.#status()}`);
    this.#drawn = true;
  }

  #sources(): string {
    const parts = (Object.keys(this.#bySource) as ByteSource[])
      .filter((source) => this.#bySource[source] > 0)
      .map((source) => `${source} ${formatBytes(this.#bySource[source])}`);
    return parts.length > 0 ? `from ${parts.join(", ")}` : "nothing transferred";
  }
}
