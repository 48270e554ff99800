import { CallTracker, connectivityState, createRpcClient, HashRing, scheduler, type ClientTlsOptions, type RpcClient } from "@df/rpc";

export type SchedulerRpc = RpcClient<scheduler.SchedulerService, scheduler.SchedulerClient>;

/** Unary calls to a scheduler fail after this long unless the call says otherwise. */
const DEFAULT_DEADLINE_MS = 10_000;

/**
 * grpc-js backs off up to 120 s between reconnects to an address that refused, failing
 * calls at once meanwhile: a scheduler back from a restart would be ignored (and every
 * download sent to the origin) for minutes. Retry within seconds instead.
 */
const RECONNECT = { "grpc.initial_reconnect_backoff_ms": 500, "grpc.max_reconnect_backoff_ms": 5000 } as const;

/** Called with a scheduler's address when it is reachable again after it was not, or joined the list. */
export type ReturnListener = (address: string) => void;

/** What a new scheduler list changed. */
export interface ListChange {
  added: string[];
  removed: string[];
}

interface Channel {
  client: SchedulerRpc;
  calls: CallTracker;
  /** While retired: stops waiting for its last call. */
  unretire?: () => void;
}

/**
 * Channels to the cluster's schedulers. Task-scoped calls go to the scheduler a task
 * hashes to, so every peer of a task meets at the same one: a consistent-hash ring of
 * the addresses (identical on every daemon given the same list), with the next ones
 * on the ring as fallbacks. A scheduler whose channel is failing to connect is tried
 * last until it reconnects, so calls do not keep knocking on a dead one first; when it
 * is back it owns its tasks again, and {@link onReturn} listeners hear of it (a
 * scheduler back from a restart knows no task, and one that was down missed the
 * announces that went to its fallbacks). Host-scoped calls go to all.
 *
 * The list can change at run time ({@link setAddresses}, from the manager): new calls
 * use the new ring at once, while calls already routed to a scheduler that left the
 * list (a download's AnnouncePeer stream) finish on their channel, which is closed when
 * its last call ends. A scheduler that joins knows none of this host's tasks, so
 * {@link onReturn} listeners hear of it as of a return.
 */
export class SchedulerClients {
  readonly #clients = new Map<string, Channel>();
  /** Channels of schedulers no longer listed, until their last call ends. */
  readonly #retired = new Map<string, Channel>();
  #addresses: readonly string[];
  #ring: HashRing;
  readonly #listeners = new Set<ReturnListener>();
  /** Addresses whose connection failed or was lost since they were last READY. */
  readonly #lost = new Set<string>();

  /** mTLS to the schedulers; plaintext without. */
  readonly #tls: ClientTlsOptions | undefined;

  constructor(addresses: readonly string[], tls?: ClientTlsOptions) {
    this.#tls = tls;
    this.#addresses = [...new Set(addresses)];
    this.#ring = new HashRing(this.#addresses);
  }

  /** The schedulers in use now. */
  get addresses(): readonly string[] {
    return this.#addresses;
  }

  /**
   * Replaces the list. Returns what changed (nothing when it is the same set, in
   * whatever order). Tells {@link onReturn} listeners of every scheduler that joined.
   */
  setAddresses(next: readonly string[]): ListChange {
    const unique = [...new Set(next)];
    const before = new Set(this.#addresses);
    const after = new Set(unique);
    const change: ListChange = { added: unique.filter((a) => !before.has(a)), removed: this.#addresses.filter((a) => !after.has(a)) };
    if (change.added.length === 0 && change.removed.length === 0) return change;
    this.#addresses = unique;
    this.#ring = new HashRing(unique);
    for (const address of change.removed) {
      const channel = this.#clients.get(address);
      this.#clients.delete(address);
      this.#lost.delete(address);
      if (channel) this.#retire(address, channel);
    }
    for (const address of change.added) {
      const channel = this.#retired.get(address);
      if (channel) {
        this.#retired.delete(address);
        channel.unretire?.();
        this.#clients.set(address, channel);
      }
    }
    for (const address of change.added) this.#returned(address);
    return change;
  }

  client(address: string): SchedulerRpc {
    const channel = this.#clients.get(address) ?? this.#retired.get(address);
    if (channel) return channel.client;
    const created = this.#open(address);
    if (this.#addresses.includes(address)) this.#clients.set(address, created);
    // An address that left the list just before this call: the call's channel, closed after it.
    else this.#retire(address, created);
    return created.client;
  }

  /** Channels open now, listed and retired: what is not yet closed. */
  get openChannels(): number {
    return this.#clients.size + this.#retired.size;
  }

  /** Addresses in the order a task's calls should try them. */
  forTask(taskId: string): string[] {
    const order = this.#ring.getN(taskId, this.addresses.length);
    const failing = (address: string): boolean =>
      this.#clients.get(address)?.client.raw.getChannel().getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE;
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
    for (const channel of [...this.#clients.values(), ...this.#retired.values()]) channel.client.close();
    this.#clients.clear();
    this.#retired.clear();
  }

  #open(address: string): Channel {
    const calls = new CallTracker();
    const client = createRpcClient(scheduler.SchedulerClient, address, {
      defaultDeadlineMs: DEFAULT_DEADLINE_MS,
      channelOptions: { ...RECONNECT, interceptors: [calls.interceptor] },
      ...(this.#tls ? { tls: this.#tls } : {}),
    });
    const channel = { client, calls };
    this.#watch(address, channel);
    return channel;
  }

  /** Closes a channel that left the list once no call uses it (at once when none does). */
  #retire(address: string, channel: Channel): void {
    this.#retired.set(address, channel);
    const closeIfIdle = (): void => {
      if (this.#retired.get(address) !== channel || channel.calls.inFlight > 0) return;
      channel.unretire?.();
      this.#retired.delete(address);
      channel.client.close();
    };
    const stopWaiting = channel.calls.onIdle(() => setImmediate(closeIfIdle));
    channel.unretire = () => {
      stopWaiting();
      delete channel.unretire;
    };
    // A caller that asked for the channel starts its call in this same turn.
    setImmediate(closeIfIdle);
  }

  /**
   * Follows one channel's connectivity. grpc-js keeps reconnecting (with the backoff
   * above) while a channel is in TRANSIENT_FAILURE, so a returning scheduler is seen
   * within seconds even if no call is made; a lost connection drops to IDLE, where
   * it waits for the next call (the host announcer makes one every interval).
   */
  #watch(address: string, watched: Channel): void {
    const channel = watched.client.raw.getChannel();
    let wasReady = false;
    const follow = (current: number): void => {
      channel.watchConnectivityState(current, Infinity, () => {
        const state = channel.getConnectivityState(false);
        if (state === connectivityState.SHUTDOWN) return;
        // A retired channel is followed (it may be listed again) but not reported on.
        if (this.#clients.get(address) !== watched) {
          follow(state);
          return;
        }
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
