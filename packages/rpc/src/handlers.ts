import {
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedHandleCall,
} from "@grpc/grpc-js";
import { toDfError } from "@df/interface/errors";
import { authorize, type AccessTable } from "./access.js";
import { beginCall, type CallRegistry } from "./call-state.js";
import { type CallContext, type MethodDefinitionLike } from "./definition.js";
import { checkRequest } from "./malformed.js";
import { readStream } from "./read-stream.js";
import { pipeToStream } from "./write-stream.js";

type AnyHandler = (input: unknown, context: CallContext) => unknown;

/**
 * Adapts a df handler (async function or async iterable, see HandlerFor) to the
 * callback-and-stream handler grpc-js expects for the method's kind.
 */
export function adaptHandler(
  definition: MethodDefinitionLike,
  handler: AnyHandler,
  registry: CallRegistry,
  access?: AccessTable,
): UntypedHandleCall {
  const method = definition.path;
  // With an access table (mTLS servers), every call is checked against it before the
  // handler runs, and every message of a request stream as it is read.
  const checked = (request: unknown, context: CallContext): unknown => {
    const valid = checkRequest(request, method);
    if (access) authorize(method, context.caller, valid, access);
    return valid;
  };
  const admitted = (context: CallContext): void => {
    if (access) authorize(method, context.caller, undefined, access);
  };
  if (!definition.requestStream && !definition.responseStream) {
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const state = beginCall(call, method, registry, (status) => callback(status));
      run(() => handler(checked(call.request, state.context), state.context)).then(
        (response) => state.settle(() => callback(null, response)),
        (error: unknown) => state.fail(error),
      );
    };
  }
  if (!definition.requestStream) {
    return (call: ServerWritableStream<unknown, unknown>) => {
      const state = beginCall(call, method, registry, (status) => call.emit("error", status));
      run(async () => {
        const responses = handler(checked(call.request, state.context), state.context) as AsyncIterable<unknown>;
        // Server streams are where bulk content goes (DownloadTask with piece bytes):
        // one message sending and the next prepared, never grpc-js's 16 queued.
        await pipeToStream(responses, call, state.context.signal, method, { maxInFlight: 1 });
      }).then(
        () => state.settle(() => call.end()),
        (error: unknown) => state.fail(error),
      );
    };
  }
  if (!definition.responseStream) {
    return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const state = beginCall(call, method, registry, (status) => callback(status));
      const requests = readRequests(call, method, state.context.signal, (item) => checked(item, state.context));
      run(() => {
        admitted(state.context);
        return handler(requests, state.context);
      }).then(
        (response) => state.settle(() => callback(null, response)),
        (error: unknown) => state.fail(error),
      );
    };
  }
  return (call: ServerDuplexStream<unknown, unknown>) => {
    const state = beginCall(call, method, registry, (status) => call.emit("error", status));
    const requests = readRequests(call, method, state.context.signal, (item) => checked(item, state.context));
    run(async () => {
      admitted(state.context);
      const responses = handler(requests, state.context) as AsyncIterable<unknown>;
      await pipeToStream(responses, call, state.context.signal, method);
    }).then(
      () => state.settle(() => call.end()),
      (error: unknown) => state.fail(error),
    );
  };
}

function readRequests(
  call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  method: string,
  signal: AbortSignal,
  check: (item: unknown) => unknown,
): AsyncIterable<unknown> {
  return readStream(call, {
    signal,
    what: method,
    mapError: (error) => toDfError(error),
    check,
  });
}

/** Calls `fn` so that a synchronous throw becomes a rejection like an async one. */
async function run<T>(fn: () => T | Promise<T>): Promise<T> {
  return fn();
}
