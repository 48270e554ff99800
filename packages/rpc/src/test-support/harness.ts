import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client } from "@grpc/grpc-js";
import { createRpcClient, type ClientConstructor, type RpcClient, type RpcClientOptions } from "../client.js";
import { type ServiceDefinitionLike, type ServiceHandlers } from "../definition.js";
import { createRpcServer, type RpcServer } from "../server.js";
import { type ServerTlsOptions } from "../tls.js";

export type Transport = "tcp" | "unix";
export const TRANSPORTS: readonly Transport[] = ["tcp", "unix"];

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "df-rpc-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Served<S extends ServiceDefinitionLike, C extends Client> {
  server: RpcServer;
  client: RpcClient<S, C>;
  dir: string;
}

export interface ServeOptions {
  tls?: ServerTlsOptions;
  client?: RpcClientOptions;
  /** Grace period when the harness stops the server. */
  graceMs?: number;
}

/**
 * Starts a real server for one service on loopback TCP (port 0) or a unix socket in a
 * temp dir, connects a client, runs `fn`, and always closes both.
 */
export async function withService<S extends ServiceDefinitionLike, C extends Client, T>(
  transport: Transport,
  definition: S,
  handlers: Partial<ServiceHandlers<S>>,
  clientConstructor: ClientConstructor<S, C>,
  fn: (served: Served<S, C>) => Promise<T>,
  options: ServeOptions = {},
): Promise<T> {
  return withTempDir(async (dir) => {
    const address = transport === "tcp" ? "127.0.0.1:0" : `unix:${join(dir, "rpc.sock")}`;
    const server = createRpcServer({ address, ...(options.tls ? { tls: options.tls } : {}) });
    server.addService(definition, handlers);
    try {
      const bound = await server.start();
      const client = createRpcClient(clientConstructor, bound, options.client);
      try {
        return await fn({ server, client, dir });
      } finally {
        client.close();
      }
    } finally {
      await server.stop({ graceMs: options.graceMs ?? 200 });
    }
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
