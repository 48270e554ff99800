import { connectivityState, createRpcClient, HashRing, scheduler, type RpcClient } from "@df/rpc";

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
 * hashes to, so every peer of a task meets at the same one: a consistent-hash ring of
 * the addresses (identical on every daemon given the same list), with the next ones
 * on the ring as fallbacks. A scheduler whose channel is failing to connect is tried
 * last until it reconnects, so calls do not keep knocking on a dead one first; when it
 * is back it owns its tasks again. Host-scoped calls go to all.
 */
export class SchedulerClients {
  readonly #clients = new Map<string, SchedulerRpc>();
  readonly addresses: readonly string[];
  readonly #ring: HashRing;

  constructor(addresses: readonly string[]) {
    this.addresses = [...new Set(addresses)];
    this.#ring = new HashRing(this.addresses);
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
    const order = this.#ring.getN(taskId, this.addresses.length);
    const failing = (address: string): boolean =>
      this.#clients.get(address)?.raw.getChannel().getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE;
    return [...order.filter((a) => !failing(a)), ...order.filter(failing)];
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}
