import { common, createRpcClient, scheduler, unary, type ClientTlsOptions, type RpcClient } from "@df/rpc";
import type { PreheatArgs } from "../rest/schemas.js";

type SchedulerRpc = RpcClient<scheduler.SchedulerService, scheduler.SchedulerClient>;

/** One URL of a preheat job, as one scheduler is asked to do it. */
export interface PreheatCall {
  url: string;
  args: PreheatArgs;
  timeoutMs: number;
  signal: AbortSignal;
}

const SCOPES = {
  single_seed_peer: scheduler.PreheatScope.SINGLE_SEED_PEER,
  all_seed_peers: scheduler.PreheatScope.ALL_SEED_PEERS,
  all_peers: scheduler.PreheatScope.ALL_PEERS,
} as const;

/** gRPC channels to schedulers, one per address, kept for the manager's lifetime. */
export class SchedulerCalls {
  readonly #clients = new Map<string, SchedulerRpc>();

  /** `tls`: mTLS to the schedulers (the manager's `security.tls`); plaintext without. */
  constructor(private readonly tls?: ClientTlsOptions) {}

  preheat(address: string, call: PreheatCall): Promise<scheduler.PreheatTaskResponse> {
    const { args } = call;
    const download = common.Download.create({
      url: call.url,
      type: common.TaskType.STANDARD,
      ...(args.tag ? { tag: args.tag } : {}),
      ...(args.application ? { application: args.application } : {}),
      filteredQueryParams: args.filteredQueryParams ?? [],
      requestHeader: args.headers ?? {},
      ...(args.pieceLength ? { pieceLength: args.pieceLength } : {}),
    });
    const request = scheduler.PreheatTaskRequest.create({ download, scope: SCOPES[args.scope] });
    return unary(this.#client(address), "preheatTask", request, { deadlineMs: call.timeoutMs, signal: call.signal });
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  #client(address: string): SchedulerRpc {
    let client = this.#clients.get(address);
    if (!client) {
      client = createRpcClient(scheduler.SchedulerClient, address, this.tls ? { tls: this.tls } : {});
      this.#clients.set(address, client);
    }
    return client;
  }
}
