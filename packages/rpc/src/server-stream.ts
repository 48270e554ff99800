import { type Client } from "@grpc/grpc-js";
import { prepareCall, type CallOptions } from "./call-options.js";
import { type RpcClient } from "./client.js";
import { type RequestOf, type ResponseOf, type ServerStreamMethod, type ServiceDefinitionLike } from "./definition.js";
import { fromGrpcError } from "./errors.js";
import { codecs } from "./method.js";
import { readStream } from "./read-stream.js";

/**
 * One request, a stream of responses. The call starts at once; iterate the result to
 * read. Leaving the loop early or aborting the signal cancels the call (an abort makes
 * the pending read fail with CANCELLED); a server error ends the iteration with its
 * DfError after the responses sent before it.
 */
export function serverStream<S extends ServiceDefinitionLike, M extends ServerStreamMethod<S>>(
  client: RpcClient<S, Client>,
  method: M,
  request: RequestOf<S[M]>,
  options: CallOptions = {},
): AsyncIterableIterator<ResponseOf<S[M]>> {
  const { path, serialize, deserialize } = codecs(client.service, method);
  const { metadata, options: callOptions } = prepareCall(options, undefined);
  const call = client.raw.makeServerStreamRequest(path, serialize, deserialize, request, metadata, callOptions);
  return readStream<ResponseOf<S[M]>>(call, {
    signal: options.signal,
    what: path,
    mapError: fromGrpcError,
    onStop: () => call.cancel(),
  });
}
