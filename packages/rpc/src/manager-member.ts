import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@df/interface";
import { DfError } from "@df/interface/errors";
import { parseAddress } from "./address.js";
import { bidiStream } from "./bidi.js";
import { createRpcClient, type RpcClient } from "./client.js";
import * as manager from "./gen/df/manager/v1/manager.js";
import type { ClientTlsOptions } from "./tls.js";

/** A channel to one manager's fleet service. */
export type ManagerRpc = RpcClient<manager.ManagerService, manager.ManagerClient>;

/** Unary calls to a manager fail after this long unless the call says otherwise. */
const MANAGER_DEADLINE_MS = 5000;

/**
 * grpc-js backs off up to 120 s between reconnects to an address that refused, failing
 * calls at once meanwhile: a manager back from a restart would be ignored for minutes.
 */
const RECONNECT = { "grpc.initial_reconnect_backoff_ms": 500, "grpc.max_reconnect_backoff_ms": 5000 } as const;

/** Opens a channel to a manager with the deadline and reconnect backoff every fleet call uses. */
export function managerClient(address: string, tls?: ClientTlsOptions): ManagerRpc {
  return createRpcClient(manager.ManagerClient, address, { defaultDeadlineMs: MANAGER_DEADLINE_MS, channelOptions: RECONNECT, ...(tls ? { tls } : {}) });
}

/**
 * Why `value` cannot be a manager address (undefined when it can): a manager is reached
 * at `host:port` or `[v6]:port`, never a unix socket, since peers on other hosts use it too.
 */
export function managerAddressProblem(value: string): string | undefined {
  try {
    if (parseAddress(value).kind === "tcp") return undefined;
    return `${JSON.stringify(value)} is a unix socket; a manager is reached at host:port`;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Where a member stands with the manager. */
export type MembershipState = "idle" | "registering" | "alive" | "retrying" | "stopped";

export interface MembershipEvents {
  onState?(state: MembershipState, address: string | undefined): void;
  /** A keepalive message went out. */
  onBeat?(): void;
  /** The manager pushed its configuration revision (on the first beat, then on every change). */
  onRevision?(revision: number, client: ManagerRpc): void;
}

export interface ManagerMembershipOptions {
  /** Manager gRPC addresses (`host:port`); the member talks to one at a time, the next after a failure. */
  addresses: readonly string[];
  /** Who keeps alive: source type, hostname, ip and cluster ID, sent in every KeepAlive message. */
  identity: manager.KeepAliveRequest;
  /** Registers (UpdateScheduler, UpdateSeedPeer) before every keepalive stream, so a manager that forgot the member learns it again. */
  register(client: ManagerRpc, signal: AbortSignal): Promise<void>;
  /** Between keepalive messages (the manager marks a member silent for 1.5 × its interval inactive). */
  intervalMs: number;
  logger: Logger;
  events?: MembershipEvents;
  /** Pause after a failure: doubling from `initialMs` up to `maxMs`, reset once a stream lasted an interval. */
  retry?: { initialMs?: number; maxMs?: number };
  /** mTLS to the managers (the member's `security.tls`); plaintext without. */
  tls?: ClientTlsOptions;
}

const DEFAULT_RETRY = { initialMs: 500, maxMs: 10_000 };

/**
 * A scheduler's or seed peer's membership in the manager: register, then one KeepAlive
 * stream beating every interval for as long as it lasts; when the manager goes away (or
 * refuses), register again and reopen the stream with bounded backoff, trying the next
 * manager address each time. Nothing here ever fails the member: a manager that is down
 * only costs warn logs until it is back. Stopping cancels the stream, so the manager
 * marks the member inactive at once.
 */
export class ManagerMembership {
  readonly #options: ManagerMembershipOptions;
  readonly #clients = new Map<string, ManagerRpc>();
  readonly #retry: { initialMs: number; maxMs: number };
  #state: MembershipState = "idle";
  #current: ManagerRpc | undefined;
  #controller: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: ManagerMembershipOptions) {
    if (options.addresses.length === 0) throw new DfError("INVALID_ARGUMENT", "a manager membership needs at least one manager address");
    this.#options = options;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  get state(): MembershipState {
    return this.#state;
  }

  /** The manager this member keeps alive with now (undefined while it has none). */
  get client(): ManagerRpc | undefined {
    return this.#current;
  }

  /** A channel to any of the manager addresses, the live one first: for the member's other calls. */
  clients(): ManagerRpc[] {
    const all = this.#options.addresses.map((address) => this.#client(address));
    return this.#current ? [this.#current, ...all.filter((c) => c !== this.#current)] : all;
  }

  /** Starts registering and keeping alive in the background; returns at once. */
  start(): void {
    if (this.#loop) return;
    this.#controller = new AbortController();
    this.#loop = this.#run(this.#controller.signal);
  }

  async stop(): Promise<void> {
    this.#controller?.abort(new DfError("CANCELLED", "the member is stopping"));
    await this.#loop;
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    this.#setState("stopped", undefined);
  }

  #client(address: string): ManagerRpc {
    let client = this.#clients.get(address);
    if (!client) {
      client = managerClient(address, this.#options.tls);
      this.#clients.set(address, client);
    }
    return client;
  }

  #setState(state: MembershipState, address: string | undefined): void {
    this.#state = state;
    this.#options.events?.onState?.(state, address);
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { addresses, logger } = this.#options;
    let failures = 0;
    for (let turn = 0; !signal.aborted; turn++) {
      const address = addresses[turn % addresses.length]!;
      const started = Date.now();
      try {
        await this.#session(address, signal);
      } catch (error) {
        if (signal.aborted) break;
        // Back off again from the start only after a session that was alive for a while;
        // a register that merely took long to time out is still a failure.
        if (this.#state === "alive" && Date.now() - started >= this.#options.intervalMs) failures = 0;
        logger.warn("no keepalive with the manager; retrying", { address, error: (error as Error).message, attempt: failures + 1 });
      }
      if (signal.aborted) break;
      this.#setState("retrying", address);
      const pause = Math.min(this.#retry.initialMs * 2 ** failures, this.#retry.maxMs);
      failures++;
      // Resolves early (rejecting) when the member stops.
      await sleep(pause, undefined, { signal }).catch(() => {});
    }
  }

  /** One registration and keepalive stream; returns (throws) only when it ends. */
  async #session(address: string, signal: AbortSignal): Promise<void> {
    const { identity, intervalMs, events, logger } = this.#options;
    const client = this.#client(address);
    this.#setState("registering", address);
    await this.#options.register(client, signal);
    const stream = bidiStream(client, "keepAlive", { signal });
    const beat = (): Promise<void> => stream.write(manager.KeepAliveRequest.create(identity)).then(() => events?.onBeat?.());
    const timer = setInterval(() => {
      // A write that fails means the stream broke; the read below sees why.
      beat().catch(() => stream.cancel());
    }, intervalMs);
    try {
      await beat();
      this.#current = client;
      this.#setState("alive", address);
      logger.info("registered with the manager; keeping alive", { address, intervalMs });
      for await (const response of stream) events?.onRevision?.(response.configRevision, client);
      throw new DfError("UNAVAILABLE", `the manager at ${address} ended the keepalive stream`);
    } finally {
      clearInterval(timer);
      if (this.#current === client) this.#current = undefined;
      stream.cancel();
    }
  }
}
