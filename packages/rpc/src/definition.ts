import type { MemberIdentity } from "./member-identity.js";
import { type Metadata } from "@grpc/grpc-js";

/**
 * Type-level view of the service definitions ts-proto generates (`SchedulerService`,
 * …): each method's path, whether each side streams, and its codecs. The helpers take
 * these definitions so request and response types follow from the method name alone.
 */
export interface MethodDefinitionLike {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  // `never` parameters accept every generated codec's signature.
  readonly requestSerialize: (value: never) => Buffer;
  readonly requestDeserialize: (value: Buffer) => unknown;
  readonly responseSerialize: (value: never) => Buffer;
  readonly responseDeserialize: (value: Buffer) => unknown;
}

/** Any generated service definition. */
export type ServiceDefinitionLike = Readonly<Record<string, MethodDefinitionLike>>;

export type RequestOf<M> = M extends { readonly requestDeserialize: (value: Buffer) => infer Req } ? Req : never;
export type ResponseOf<M> = M extends { readonly responseDeserialize: (value: Buffer) => infer Res } ? Res : never;

type MethodsWhere<S, ReqStream extends boolean, ResStream extends boolean> = {
  [K in keyof S]: S[K] extends { readonly requestStream: ReqStream; readonly responseStream: ResStream } ? K : never;
}[keyof S] &
  string;

export type UnaryMethod<S> = MethodsWhere<S, false, false>;
export type ServerStreamMethod<S> = MethodsWhere<S, false, true>;
export type ClientStreamMethod<S> = MethodsWhere<S, true, false>;
export type BidiStreamMethod<S> = MethodsWhere<S, true, true>;

/** What every server-side handler gets besides its request(s). */
export interface CallContext {
  /**
   * Aborted when the client cancels, the deadline passes, or the server stops; the
   * reason is a DfError (CANCELLED, UNAVAILABLE). Long handlers should watch it.
   */
  readonly signal: AbortSignal;
  /** The client's request metadata. */
  readonly metadata: Metadata;
  /** The client's address as grpc-js reports it. */
  readonly peer: string;
  /** The full method path, e.g. `/df.scheduler.v1.Scheduler/AnnouncePeer`. */
  readonly method: string;
  /** The member the caller's verified certificate names (mTLS servers only; see member-identity.ts). */
  readonly caller?: MemberIdentity;
}

/**
 * The handler shapes df services implement, by method kind: plain async functions for
 * single responses, async iterables (typically async generators) for response streams.
 * A thrown error ends the call with the status `toGrpcStatus` gives it.
 */
export type HandlerFor<M> = M extends { readonly requestStream: false; readonly responseStream: false }
  ? (request: RequestOf<M>, context: CallContext) => Promise<ResponseOf<M>> | ResponseOf<M>
  : M extends { readonly requestStream: false; readonly responseStream: true }
    ? (request: RequestOf<M>, context: CallContext) => AsyncIterable<ResponseOf<M>>
    : M extends { readonly requestStream: true; readonly responseStream: false }
      ? (requests: AsyncIterable<RequestOf<M>>, context: CallContext) => Promise<ResponseOf<M>> | ResponseOf<M>
      : (requests: AsyncIterable<RequestOf<M>>, context: CallContext) => AsyncIterable<ResponseOf<M>>;

export type ServiceHandlers<S extends ServiceDefinitionLike> = { [K in keyof S]: HandlerFor<S[K]> };
