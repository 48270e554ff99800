import { SingleBar } from "cli-progress";
import { daemonDownload, unary, type RpcClient } from "@df/rpc";

type Client = RpcClient<daemonDownload.DfdaemonDownloadService, daemonDownload.DfdaemonDownloadClient>;

const POLL_MS = 200;
/** Small files finish before a bar would help: show one only after this long. */
const SHOW_AFTER_MS = 500;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * Progress of an import or export, which are single calls: the daemon's own store is
 * polled (StatTask, local only) for the task's stored pieces while the call runs. A bar
 * on a terminal, a line per 10 % elsewhere, on stderr; nothing for quick calls.
 */
export class CacheProgress {
  #timer: NodeJS.Timeout | undefined;
  #bar: SingleBar | undefined;
  #lastDecile = -1;
  readonly #startedAt = performance.now();

  constructor(
    private readonly what: string,
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  watch(client: Client, taskId: string): void {
    if (!this.enabled) return;
    const poll = async () => {
      const answer = await unary(client, "statTask", daemonDownload.StatTaskRequest.create({ taskId, localOnly: true }), { deadlineMs: 2000 }).catch(() => undefined);
      const task = answer?.task;
      if (task && this.#timer) this.#show(task.pieces.reduce((sum, piece) => sum + piece.length, 0), task.contentLength ?? 0);
      if (this.#timer) this.#timer = setTimeout(() => void poll(), POLL_MS);
    };
    this.#timer = setTimeout(() => void poll(), SHOW_AFTER_MS);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#bar?.stop();
  }

  #show(done: number, total: number): void {
    if (total <= 0) return;
    if (this.stream.isTTY) {
      this.#bar ??= new SingleBar({ stream: this.stream, format: `${this.what} {bar} {percentage}% | {value}/{total} bytes | {speed}`, hideCursor: true, barsize: 30 });
      if (!this.#bar.isActive) this.#bar.start(total, 0, { speed: "-" });
      const seconds = (performance.now() - this.#startedAt) / 1000;
      this.#bar.update(done, { speed: `${(done / 1e6 / seconds).toFixed(1)} MB/s` });
      return;
    }
    const decile = Math.floor((done / total) * 10);
    if (decile > this.#lastDecile) {
      this.#lastDecile = decile;
      this.stream.write(`dfcache: ${this.what} ${decile * 10}% (${mib(done)} of ${mib(total)})\n`);
    }
  }
}
