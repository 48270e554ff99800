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

/** Called with a scheduler's address when it is reachable again after it was not. */
export type ReturnListener = (address: string) => void;

/**
 * Channels to the cluster's schedulers. Task-scoped calls go to the scheduler a task
 * hashes to, so every peer of a task meets at the same one: a consistent-hash ring of
 * the addresses (identical on every daemon given the same list), with the next ones
 * on the ring as fallbacks. A scheduler whose channel is failing to connect is tried
 * last until it reconnects, so calls do not keep knocking on a dead one first; when it
 * is back it owns its tasks again, and {@link onReturn} listeners hear of it (a
 * scheduler back from a restart knows no task, and one that was down missed the
 * announces that went to its fallbacks). Host-scoped calls go to all.
 */
export class SchedulerClients {
  readonly #clients = new Map<string, SchedulerRpc>();
  readonly addresses: readonly string[];
  readonly #ring: HashRing;
  readonly #listeners = new Set<ReturnListener>();
  /** Addresses whose connection failed or was lost since they were last READY. */
  readonly #lost = new Set<string>();

  constructor(addresses: readonly string[]) {
    this.addresses = [...new Set(addresses)];
    this.#ring = new HashRing(this.addresses);
  }

  client(address: string): SchedulerRpc {
    let client = this.#clients.get(address);
    if (!client) {
      client = createRpcClient(scheduler.SchedulerClient, address, { defaultDeadlineMs: DEFAULT_DEADLINE_MS, channelOptions: RECONNECT });
      this.#clients.set(address, client);
      this.#watch(address, client);
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

  /** The scheduler that owns a task on the ring, reachable or not. */
  ownerOf(taskId: string): string | undefined {
    return this.#ring.get(taskId);
  }

  /**
   * Calls `listener(address)` whenever a scheduler's channel is READY again after its
   * connection failed or was lost (the scheduler was down, restarted, or unreachable).
   * Not for the first connection. Returns a function that removes the listener.
   */
  onReturn(listener: ReturnListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  /**
   * Follows one channel's connectivity. grpc-js keeps reconnecting (with the backoff
   * above) while a channel is in TRANSIENT_FAILURE, so a returning scheduler is seen
   * within seconds even if no call is made; a lost connection drops to IDLE, where
   * it waits for the next call (the host announcer makes one every interval).
   */
  #watch(address: string, client: SchedulerRpc): void {
    const channel = client.raw.getChannel();
    let wasReady = false;
    const follow = (current: number): void => {
      channel.watchConnectivityState(current, Infinity, () => {
        const state = channel.getConnectivityState(false);
        if (state === connectivityState.SHUTDOWN || this.#clients.get(address) !== client) return;
        if (state === connectivityState.READY) {
          if (this.#lost.delete(address)) this.#returned(address);
          wasReady = true;
        } else if (state === connectivityState.TRANSIENT_FAILURE || (wasReady && state === connectivityState.IDLE)) {
          this.#lost.add(address);
          wasReady = false;
        }
        follow(state);
      });
    };
    follow(channel.getConnectivityState(false));
  }

  #returned(address: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(address);
      } catch {
        // A listener's failure is its own; the others still hear of the return.
      }
    }
  }
}
