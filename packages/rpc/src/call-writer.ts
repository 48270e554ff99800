import { type Writable } from "node:stream";
import { DfError } from "@df/interface/errors";
import { fromGrpcError } from "./errors.js";

/** The sending half of a client-streaming or bidi call. */
export interface CallWriter<Req> {
  /**
   * Sends one message; resolves once grpc-js has taken it, so awaiting each write keeps
   * memory bounded. Rejects with the call's DfError once the call has failed or ended.
   */
  write(request: Req): Promise<void>;
  /** Half-closes: no more requests; responses keep coming. */
  end(): void;
}

/**
 * Wraps a grpc-js client call's writable side. grpc-js does not always call a write's
 * callback once the call has ended, so pending writes are settled from the call's own
 * 'error' and 'status' events.
 */
export function callWriter<Req>(call: Writable, what: string): CallWriter<Req> {
  const pending = new Set<(error: DfError) => void>();
  let failure: DfError | undefined;
  let ended = false;

  const failAll = (error: DfError): void => {
    failure ??= error;
    for (const reject of [...pending]) reject(failure);
    pending.clear();
  };
  call.on("error", (error: unknown) => failAll(fromGrpcError(error)));
  call.on("status", () =>
    failAll(new DfError("FAILED_PRECONDITION", `${what}: the call has ended`, { reason: "call-ended" })),
  );

  return {
    write(request) {
      if (failure !== undefined) return Promise.reject(failure);
      if (ended) {
        return Promise.reject(
          new DfError("FAILED_PRECONDITION", `${what}: write after end`, { reason: "write-after-end" }),
        );
      }
      return new Promise<void>((resolve, reject) => {
        const settle = (error: DfError | undefined): void => {
          if (!pending.delete(fail)) return;
          if (error === undefined) resolve();
          else reject(error);
        };
        const fail = (error: DfError): void => settle(error);
        pending.add(fail);
        call.write(request, (error: Error | null | undefined) =>
          settle(error === null || error === undefined ? undefined : (failure ?? fromGrpcError(error))),
        );
      });
    },
    end() {
      if (ended) return;
      ended = true;
      call.end();
    },
  };
}
