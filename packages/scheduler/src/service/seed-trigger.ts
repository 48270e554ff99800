import { DfError, noopLogger, type AbortOptions, type Logger } from "@df/interface";
import { createRpcClient, daemonUpload, serverStream, type ClientTlsOptions, type RpcClient } from "@df/rpc";
import type { Host } from "../resource/host.js";
import { downloadToProto } from "./convert.js";
import type { DownloadRequest, SeedPeerFetcher, SeedPeerFetchResult, SeedPeerTrigger } from "./types.js";

/**
 * Triggers a seed peer through its upload service's DownloadTask. The trigger counts as
 * accepted at the seed's first answer; the rest of the stream (its progress) is drained
 * in the background so the seed is never held back by an unread stream. A fetch (for
 * preheat) reads the stream to its end instead.
 */
export class RpcSeedPeerTrigger implements SeedPeerTrigger, SeedPeerFetcher {
  readonly #clients = new Map<string, RpcClient<daemonUpload.DfdaemonUploadService>>();

  constructor(
    private readonly acceptTimeoutMs: number,
    private readonly logger: Logger = noopLogger,
    /** mTLS to the seed peers' upload services; plaintext without. */
    private readonly tls?: ClientTlsOptions,
  ) {}

  #client(seed: Host): RpcClient<daemonUpload.DfdaemonUploadService> {
    const address = `${seed.info.ip.includes(":") ? `[${seed.info.ip}]` : seed.info.ip}:${seed.info.port}`;
    let client = this.#clients.get(address);
    if (!client) {
      client = createRpcClient(daemonUpload.DfdaemonUploadClient, address, this.tls ? { tls: this.tls } : {});
      this.#clients.set(address, client);
    }
    return client;
  }

  #open(seed: Host, download: DownloadRequest, signal: AbortSignal): AsyncIterator<daemonUpload.DownloadTaskResponse> {
    const request = daemonUpload.DownloadTaskRequest.create({ download: downloadToProto(download) });
    return serverStream(this.#client(seed), "downloadTask", request, { signal })[Symbol.asyncIterator]();
  }

  async fetch(seed: Host, download: DownloadRequest, options: AbortOptions = {}): Promise<SeedPeerFetchResult> {
    const started = performance.now();
    const stream = this.#open(seed, download, options.signal ?? new AbortController().signal);
    let contentLength = 0;
    let taskId = "";
    for (let next = await stream.next(); !next.done; next = await stream.next()) {
      const message = next.value;
      taskId ||= message.taskId;
      const event = message.response;
      if (event?.$case === "started") contentLength = event.value.contentLength;
      if (event?.$case === "finished") return { taskId, contentLength, costMs: Math.round(performance.now() - started) };
    }
    throw new DfError("UNAVAILABLE", `seed peer ${seed.id} ended the download of ${download.url} without finishing it`);
  }

  async trigger(seed: Host, taskId: string, download: DownloadRequest, options: AbortOptions = {}): Promise<void> {
    const controller = new AbortController();
    options.signal?.addEventListener("abort", () => controller.abort(options.signal?.reason), { once: true });
    const stream = this.#open(seed, download, controller.signal);
    const timer = setTimeout(() => controller.abort(new DfError("DEADLINE_EXCEEDED", "seed peer did not accept in time")), this.acceptTimeoutMs);
    try {
      const first = await stream.next();
      if (first.done) throw new DfError("UNAVAILABLE", `seed peer ${seed.id} ended the trigger of task ${taskId} without answering`);
    } finally {
      clearTimeout(timer);
    }
    void (async () => {
      try {
        for (let next = await stream.next(); !next.done; next = await stream.next());
      } catch (error) {
        this.logger.warn("seed peer download stream ended with an error", { taskId, seedHostId: seed.id, error: String(error) });
      }
    })();
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}
