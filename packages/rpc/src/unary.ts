import { type Client } from "@grpc/grpc-js";
import { abortError, onAbort } from "./abort.js";
import { prepareCall, type CallOptions } from "./call-options.js";
import { type RpcClient } from "./client.js";
import { type RequestOf, type ResponseOf, type ServiceDefinitionLike, type UnaryMethod } from "./definition.js";
import { fromGrpcError } from "./errors.js";
import { codecs, type MethodCodecs } from "./method.js";

/** One request, one response. Failures reject with a DfError (see `fromGrpcError`). */
export function unary<S extends ServiceDefinitionLike, M extends UnaryMethod<S>>(
  client: RpcClient<S, Client>,
  method: M,
  request: RequestOf<S[M]>,
  options: CallOptions = {},
): Promise<ResponseOf<S[M]>> {
  let methodCodecs: MethodCodecs;
  try {
    methodCodecs = codecs(client.service, method);
  } catch (error) {
    return Promise.reject(error);
  }
  const { path, serialize, deserialize } = methodCodecs;
  const { signal } = options;
  if (signal?.aborted === true) return Promise.reject(abortError(signal, path));
  const { metadata, options: callOptions } = prepareCall(options, client.defaultDeadlineMs);
  return new Promise((resolve, reject) => {
    const call = client.raw.makeUnaryRequest(
      path,
      serialize,
      deserialize,
      request,
      metadata,
      callOptions,
      (error, response) => {
        stopListening();
        if (signal?.aborted === true) reject(abortError(signal, path));
        else if (error !== null) reject(fromGrpcError(error));
        else resolve(response as ResponseOf<S[M]>);
      },
    );
    const stopListening = onAbort(signal, () => call.cancel());
  });
}
