import { unlink } from "node:fs/promises";
import { Server, type ChannelOptions, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { DfError } from "@df/interface/errors";
import { formatAddress, toAddress, type Address } from "./address.js";
import { type TrackedCall } from "./call-state.js";
import { DEFAULT_SERVER_OPTIONS } from "./channel-options.js";
import { type AccessTable } from "./access.js";
import { type ServiceDefinitionLike, type ServiceHandlers } from "./definition.js";
import { adaptHandler } from "./handlers.js";
import { tolerantDecoder } from "./malformed.js";
import { serverCredentials, type ServerTlsOptions } from "./tls.js";
import { prepareUnixSocket, setSocketMode, stageUnixSocket } from "./unix-socket.js";

/** Longest socket path staged first: the staged one is 11 bytes longer, and 107 is the most a socket address holds. */
const MAX_STAGED_SOCKET_PATH = 96;

export interface RpcServerOptions {
  /** Where to listen; TCP port 0 picks a free port (see `start`). */
  address: string | Address;
  /** TLS or mTLS; plaintext without. */
  tls?: ServerTlsOptions;
  /**
   * Who may call each method (e.g. `MEMBER_ACCESS`), from the member the client
   * certificate names: every call is checked before its handler runs and refused with
   * PERMISSION_DENIED otherwise. Needs mTLS (`tls.requireClientCert`): without
   * certificates there is nobody to check.
   */
  access?: AccessTable;
  /** grpc-js server options, over df's defaults (128 MiB messages, keepalive). */
  channelOptions?: ChannelOptions;
  /**
   * A unix socket's permissions, whatever the umask (default 0o600: the owner only), and
   * optionally its group (a gid; give the mode group bits too, e.g. 0o660). The socket
   * is bound in a private directory and moved into place with them set, so no other
   * user can connect in between.
   */
  socket?: { mode?: number; gid?: number };
}

export interface StopOptions {
  /**
   * How long calls in progress may run on after the server stops accepting new ones.
   * Then each is aborted and ends with UNAVAILABLE (reason `server-shutdown`), so
   * clients know to go elsewhere. Default 5000.
   */
  graceMs?: number;
}

export interface RpcServer {
  /**
   * Serves a generated service definition (e.g. `scheduler.SchedulerService`) with df
   * handlers: async functions for single responses, async iterables for streams. A
   * method without a handler answers UNIMPLEMENTED.
   */
  addService<S extends ServiceDefinitionLike>(definition: S, handlers: Partial<ServiceHandlers<S>>): this;
  /** Binds and starts serving; resolves to the bound address (with the real TCP port). */
  start(): Promise<Address>;
  /** Stops gracefully, then forcibly after `graceMs`. Safe to call more than once. */
  stop(options?: StopOptions): Promise<void>;
  /** The bound address once started. */
  readonly address: Address | undefined;
}

export function createRpcServer(options: RpcServerOptions): RpcServer {
  return new GrpcRpcServer(options);
}

// After the grace period the shutdown statuses need a moment to reach the clients
// before the connections are torn down.
const FLUSH_MS = 500;

class GrpcRpcServer implements RpcServer {
  readonly #server: Server;
  readonly #options: RpcServerOptions;
  readonly #calls = new Set<TrackedCall>();
  readonly #registry = {
    track: (call: TrackedCall) => {
      this.#calls.add(call);
      return () => this.#calls.delete(call);
    },
  };
  #address: Address | undefined;
  /** A unix socket bound elsewhere and moved here: removed on stop. */
  #published: string | undefined;
  #starting: Promise<Address> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: RpcServerOptions) {
    if (options.access !== undefined && options.tls?.requireClientCert !== true) {
      throw new DfError("INVALID_ARGUMENT", "an access table needs mTLS (tls with requireClientCert): callers are known by their certificates", {
        reason: "access-without-mtls",
      });
    }
    this.#options = options;
    this.#server = new Server({ ...DEFAULT_SERVER_OPTIONS, ...options.channelOptions });
  }

  get address(): Address | undefined {
    return this.#address;
  }

  addService<S extends ServiceDefinitionLike>(definition: S, handlers: Partial<ServiceHandlers<S>>): this {
    const grpcDefinition: Record<string, unknown> = {};
    const implementation: UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      grpcDefinition[name] = { ...method, requestDeserialize: tolerantDecoder(method.requestDeserialize) };
      const handler = (handlers as Record<string, unknown>)[name];
      if (typeof handler === "function") {
        implementation[name] = adaptHandler(method, handler as Parameters<typeof adaptHandler>[1], this.#registry, this.#options.access);
      }
    }
    this.#server.addService(grpcDefinition as ServiceDefinition, implementation);
    return this;
  }

  start(): Promise<Address> {
    this.#starting ??= this.#bind();
    return this.#starting;
  }

  async #bind(): Promise<Address> {
    const address = toAddress(this.#options.address);
    if (address.kind === "unix") await prepareUnixSocket(address.path);
    const credentials = serverCredentials(this.#options.tls);
    // Where the staged path would not fit a socket address, the socket is bound in place
    // and its mode set right after (a moment in which the umask decides).
    const staging = address.kind === "unix" && Buffer.byteLength(address.path) <= MAX_STAGED_SOCKET_PATH ? await stageUnixSocket(address.path) : undefined;
    const target = formatAddress(staging ? { kind: "unix", path: staging.path } : address);
    const port = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(target, credentials, (error, boundPort) => {
        if (error === null) resolve(boundPort);
        else {
          reject(
            new DfError("UNAVAILABLE", `cannot listen on ${target}: ${error.message}`, {
              cause: error,
              reason: "bind-failed",
              details: { address: target },
            }),
          );
        }
      });
    });
    if (address.kind === "unix") {
      const { mode = 0o600, gid } = this.#options.socket ?? {};
      if (staging) {
        await staging.publish(address.path, mode, gid);
        this.#published = address.path;
      }
      else await setSocketMode(address.path, mode, gid);
    }
    this.#address = address.kind === "tcp" ? { ...address, port } : address;
    return this.#address;
  }

  stop(options: StopOptions = {}): Promise<void> {
    this.#stopping ??= this.#shutdown(options.graceMs ?? 5000);
    return this.#stopping;
  }

  async #shutdown(graceMs: number): Promise<void> {
    try {
      await this.#drain(graceMs);
    } finally {
      // The server removes the path it bound, which for a staged socket is gone already.
      if (this.#published !== undefined) await unlink(this.#published).catch(() => {});
    }
  }

  async #drain(graceMs: number): Promise<void> {
    if (this.#starting !== undefined) await this.#starting.catch(() => {});
    const drained = new Promise<void>((resolve) => this.#server.tryShutdown(() => resolve()));
    if (await settlesWithin(drained, graceMs)) return;
    const error = new DfError("UNAVAILABLE", "the server is shutting down", { reason: "server-shutdown" });
    for (const call of [...this.#calls]) call.shutdown(error);
    if (await settlesWithin(drained, FLUSH_MS)) return;
    this.#server.forceShutdown();
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
