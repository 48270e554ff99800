import { createHash } from "node:crypto";
import { createRpcClient, scheduler, type RpcClient } from "@df/rpc";

export type SchedulerRpc = RpcClient<scheduler.SchedulerService, scheduler.SchedulerClient>;

/** Unary calls to a scheduler fail after this long unless the call says otherwise. */
const DEFAULT_DEADLINE_MS = 10_000;

/**
 * grpc-js backs off up to 120 s between reconnects to an address that refused, failing
 * calls at once meanwhile: a scheduler back from a restart would be ignored (and every
 * download sent to the origin) for minutes. Retry within seconds instead.
 */
const RECONNECT = { "grpc.initial_reconnect_backoff_ms": 500, "grpc.max_reconnect_backoff_ms": 5000 } as const;

/**
 * Channels to the cluster's schedulers. Task-scoped calls go to the scheduler a task
 * hashes to, so every peer of a task meets at the same one: rendezvous hashing of the
 * task ID over the addresses (the same order on every daemon given the same list), with
 * the rest of that order as fallbacks when the first is down. Host-scoped calls go to all.
 */
export class SchedulerClients {
  readonly #clients = new Map<string, SchedulerRpc>();
  readonly addresses: readonly string[];

  constructor(addresses: readonly string[]) {
    this.addresses = [...new Set(addresses)];
  }

  client(address: string): SchedulerRpc {
    let client = this.#clients.get(address);
    if (!client) {
      client = createRpcClient(scheduler.SchedulerClient, address, { defaultDeadlineMs: DEFAULT_DEADLINE_MS, channelOptions: RECONNECT });
      this.#clients.set(address, client);
    }
    return client;
  }

  /** Addresses in the order a task's calls should try them. */
  forTask(taskId: string): string[] {
    const weight = (address: string): string => createHash("sha256").update(address).update("\0").update(taskId).digest("hex");
    return [...this.addresses].sort((a, b) => (weight(a) < weight(b) ? 1 : weight(a) > weight(b) ? -1 : 0));
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}
