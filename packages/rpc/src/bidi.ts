import { type Client } from "@grpc/grpc-js";
import { prepareCall, type CallOptions } from "./call-options.js";
import { callWriter, type CallWriter } from "./call-writer.js";
import { type RpcClient } from "./client.js";
import { type BidiStreamMethod, type RequestOf, type ResponseOf, type ServiceDefinitionLike } from "./definition.js";
import { fromGrpcError } from "./errors.js";
import { codecs } from "./method.js";
import { readStream } from "./read-stream.js";

/** Both directions of a bidi call: write requests, iterate responses. */
export interface BidiCall<Req, Res> extends CallWriter<Req>, AsyncIterableIterator<Res> {
  /** Cancels the call; reads and writes then fail with CANCELLED. */
  cancel(): void;
}

/**
 * Opens a bidirectional stream (AnnouncePeer, KeepAlive). Aborting the signal or leaving
 * the response loop early cancels the call; a server error ends the iteration and fails
 * later writes with its DfError.
 */
export function bidiStream<S extends ServiceDefinitionLike, M extends BidiStreamMethod<S>>(
  client: RpcClient<S, Client>,
  method: M,
  options: CallOptions = {},
): BidiCall<RequestOf<S[M]>, ResponseOf<S[M]>> {
  const { path, serialize, deserialize } = codecs(client.service, method);
  const { metadata, options: callOptions } = prepareCall(options, undefined);
  const call = client.raw.makeBidiStreamRequest(path, serialize, deserialize, metadata, callOptions);
  const writer = callWriter<RequestOf<S[M]>>(call, path);
  const responses = readStream<ResponseOf<S[M]>>(call, {
    signal: options.signal,
    what: path,
    mapError: fromGrpcError,
    onStop: () => call.cancel(),
  });
  const bidi: BidiCall<RequestOf<S[M]>, ResponseOf<S[M]>> = {
    write: (request) => writer.write(request),
    end: () => writer.end(),
    cancel: () => call.cancel(),
    next: () => responses.next(),
    return: () => responses.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    [Symbol.asyncIterator]: () => bidi,
  };
  return bidi;
}
