import { type Client } from "@grpc/grpc-js";
import { abortError, onAbort } from "./abort.js";
import { prepareCall, type CallOptions } from "./call-options.js";
import { callWriter, type CallWriter } from "./call-writer.js";
import { type RpcClient } from "./client.js";
import { type ClientStreamMethod, type RequestOf, type ResponseOf, type ServiceDefinitionLike } from "./definition.js";
import { fromGrpcError } from "./errors.js";
import { codecs } from "./method.js";

/** A client-streaming call: write requests, end, then await the one response. */
export interface ClientStreamCall<Req, Res> extends CallWriter<Req> {
  /** Settles when the server answers; rejects with a DfError on failure or abort. */
  readonly response: Promise<Res>;
  cancel(): void;
}

export function clientStream<S extends ServiceDefinitionLike, M extends ClientStreamMethod<S>>(
  client: RpcClient<S, Client>,
  method: M,
  options: CallOptions = {},
): ClientStreamCall<RequestOf<S[M]>, ResponseOf<S[M]>> {
  const { path, serialize, deserialize } = codecs(client.service, method);
  const { metadata, options: callOptions } = prepareCall(options, client.defaultDeadlineMs);
  const { signal } = options;
  let settle!: (error: unknown, response?: unknown) => void;
  const response = new Promise<ResponseOf<S[M]>>((resolve, reject) => {
    settle = (error, value) => {
      stopListening();
      if (signal?.aborted === true) reject(abortError(signal, path));
      else if (error !== null && error !== undefined) reject(fromGrpcError(error));
      else resolve(value as ResponseOf<S[M]>);
    };
  });
  // Callers often await writes first; an early failure must not go unhandled meanwhile.
  response.catch(() => {});
  const call = client.raw.makeClientStreamRequest(path, serialize, deserialize, metadata, callOptions, (e, r) =>
    settle(e, r),
  );
  const stopListening = onAbort(signal, () => call.cancel());
  const writer = callWriter<RequestOf<S[M]>>(call, path);
  return {
    write: (request) => writer.write(request),
    end: () => writer.end(),
    cancel: () => call.cancel(),
    response,
  };
}
