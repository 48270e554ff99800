import { DfError, noopLogger, type AbortOptions, type Logger } from "@df/interface";
import { createRpcClient, daemonUpload, serverStream, type RpcClient } from "@df/rpc";
import type { Host } from "../resource/host.js";
import { downloadToProto } from "./convert.js";
import type { DownloadRequest, SeedPeerTrigger } from "./types.js";

/**
 * Triggers a seed peer through its upload service's DownloadTask. The trigger counts as
 * accepted at the seed's first answer; the rest of the stream (its progress) is drained
 * in the background so the seed is never held back by an unread stream.
 */
export class RpcSeedPeerTrigger implements SeedPeerTrigger {
  readonly #clients = new Map<string, RpcClient<daemonUpload.DfdaemonUploadService>>();

  constructor(
    private readonly acceptTimeoutMs: number,
    private readonly logger: Logger = noopLogger,
  ) {}

  async trigger(seed: Host, taskId: string, download: DownloadRequest, options: AbortOptions = {}): Promise<void> {
    const address = `${seed.info.ip.includes(":") ? `[${seed.info.ip}]` : seed.info.ip}:${seed.info.port}`;
    let client = this.#clients.get(address);
    if (!client) {
      client = createRpcClient(daemonUpload.DfdaemonUploadClient, address);
      this.#clients.set(address, client);
    }
    const controller = new AbortController();
    options.signal?.addEventListener("abort", () => controller.abort(options.signal?.reason), { once: true });
    const stream = serverStream(
      client,
      "downloadTask",
      daemonUpload.DownloadTaskRequest.create({ download: downloadToProto(download) }),
      { signal: controller.signal },
    )[Symbol.asyncIterator]();
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
