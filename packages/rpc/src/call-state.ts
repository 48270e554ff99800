import { type EventEmitter } from "node:events";
import { type Metadata } from "@grpc/grpc-js";
import { DfError } from "@df/interface/errors";
import type { PeerCertificate } from "node:tls";
import { type CallContext } from "./definition.js";
import { identityOf } from "./member-identity.js";
import { toGrpcStatus, type GrpcStatusObject } from "./errors.js";

/** A call in progress, as the server sees it when it must stop. */
export interface TrackedCall {
  /** Abort the handler and end the call with `error`'s status. */
  shutdown(error: DfError): void;
}

/** The server's set of calls in progress. */
export interface CallRegistry {
  /** Adds a call; returns the function that removes it. */
  track(call: TrackedCall): () => void;
}

/** The parts of grpc-js's server call objects used here, common to all four kinds. */
export interface ServerCallLike extends EventEmitter {
  readonly metadata: Metadata;
  readonly cancelled: boolean;
  getPeer(): string;
  /** The TLS peer certificate, on a secure connection (grpc-js ≥ 1.14). */
  getAuthContext?(): { sslPeerCertificate?: PeerCertificate } | null;
}

export interface CallState {
  readonly context: CallContext;
  /**
   * Sends the call's final answer through `send` unless the call already ended
   * (cancelled, shut down, or answered); then forgets the call.
   */
  settle(send: () => void): void;
  /** Ends the call with the status for `error`, if it has not ended. */
  fail(error: unknown): void;
}

/**
 * Per-call bookkeeping of the handler wrappers: an AbortSignal for the handler that fires
 * on client cancel, deadline or server shutdown, and a once-only final answer.
 */
export function beginCall(
  call: ServerCallLike,
  method: string,
  registry: CallRegistry,
  sendError: (status: GrpcStatusObject) => void,
): CallState {
  const controller = new AbortController();
  let ended = false;
  let untrack = (): void => {};

  const settle = (send: () => void): void => {
    if (ended) return;
    ended = true;
    untrack();
    if (!call.cancelled) send();
  };
  const fail = (error: unknown): void => settle(() => sendError(toGrpcStatus(error)));

  call.once("cancelled", () => {
    ended = true;
    untrack();
    controller.abort(
      new DfError("CANCELLED", `${method}: the client cancelled the call or its deadline passed`, {
        reason: "call-cancelled",
      }),
    );
  });
  untrack = registry.track({
    shutdown(error) {
      controller.abort(error);
      fail(error);
    },
  });

  return {
    context: { signal: controller.signal, metadata: call.metadata, peer: call.getPeer(), method, ...callerOf(call) },
    settle,
    fail,
  };
}

/** The member named by the client certificate of a TLS call; nothing on a plaintext one. */
function callerOf(call: ServerCallLike): Pick<CallContext, "caller"> {
  const certificate = call.getAuthContext?.()?.sslPeerCertificate;
  const caller = certificate ? identityOf(certificate) : undefined;
  return caller ? { caller } : {};
}
