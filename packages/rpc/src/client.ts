import { type ChannelCredentials, type ChannelOptions, type Client, type ClientOptions } from "@grpc/grpc-js";
import { DfError } from "@df/interface/errors";
import { abortError, onAbort } from "./abort.js";
import { formatAddress, toAddress, type Address } from "./address.js";
import { DEFAULT_CHANNEL_OPTIONS } from "./channel-options.js";
import { type ServiceDefinitionLike } from "./definition.js";
import { channelCredentials, tlsChannelOptions, type ClientTlsOptions } from "./tls.js";

/** A generated client class (e.g. `scheduler.SchedulerClient`): it knows its service. */
export interface ClientConstructor<S extends ServiceDefinitionLike, C extends Client> {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): C;
  readonly service: S;
}

export interface RpcClientOptions {
  /** TLS or mTLS; plaintext without. */
  tls?: ClientTlsOptions;
  /**
   * Deadline for unary and client-streaming calls that set none. Server and bidi
   * streams live as long as a download or a membership, so they get a deadline only
   * when a call asks for one.
   */
  defaultDeadlineMs?: number;
  /** grpc-js channel options, over df's defaults (128 MiB messages, keepalive). */
  channelOptions?: ChannelOptions;
}

/** A channel to one address and the service definition its calls are typed by. */
export interface RpcClient<S extends ServiceDefinitionLike, C extends Client = Client> {
  readonly service: S;
  /** The generated grpc-js client, for anything the helpers do not cover. */
  readonly raw: C;
  readonly address: Address;
  readonly defaultDeadlineMs: number | undefined;
  /** Closes the channel; calls in progress fail with CANCELLED or UNAVAILABLE. */
  close(): void;
}

/**
 * Opens a (lazy) channel to `address`. Nothing connects until the first call or
 * `waitForReady`.
 */
export function createRpcClient<S extends ServiceDefinitionLike, C extends Client>(
  constructor: ClientConstructor<S, C>,
  address: string | Address,
  options: RpcClientOptions = {},
): RpcClient<S, C> {
  const parsed = toAddress(address);
  const raw = new constructor(formatAddress(parsed), channelCredentials(options.tls), {
    ...DEFAULT_CHANNEL_OPTIONS,
    ...tlsChannelOptions(options.tls),
    ...options.channelOptions,
  });
  return {
    service: constructor.service,
    raw,
    address: parsed,
    defaultDeadlineMs: options.defaultDeadlineMs,
    close: () => raw.close(),
  };
}

export interface WaitForReadyOptions {
  /** Give up after this long: DEADLINE_EXCEEDED, reason `not-ready`. Default 5000. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** Connects now and resolves once the channel is ready (a health check for dfget). */
export function waitForReady(client: RpcClient<ServiceDefinitionLike>, options: WaitForReadyOptions = {}): Promise<void> {
  const deadlineMs = options.deadlineMs ?? 5000;
  const target = formatAddress(client.address);
  return new Promise((resolve, reject) => {
    let settled = false;
    const stopListening = onAbort(options.signal, () => {
      settled = true;
      reject(abortError(options.signal as AbortSignal, `connecting to ${target}`));
    });
    client.raw.waitForReady(Date.now() + deadlineMs, (error) => {
      stopListening();
      if (settled) return;
      if (error === undefined || error === null) resolve();
      else {
        reject(
          new DfError("DEADLINE_EXCEEDED", `${target} was not ready within ${deadlineMs} ms`, {
            cause: error,
            reason: "not-ready",
            details: { address: target },
          }),
        );
      }
    });
  });
}
