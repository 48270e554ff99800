import { Metadata, type CallOptions as GrpcCallOptions } from "@grpc/grpc-js";

/** Per-call options of the client helpers. */
export interface CallOptions {
  /** Cancels the call: the promise or iteration fails with CANCELLED (or the reason's error). */
  signal?: AbortSignal;
  /** Fail with DEADLINE_EXCEEDED after this long; overrides the client's default. */
  deadlineMs?: number;
  /** Request metadata (headers). */
  metadata?: Metadata | Readonly<Record<string, string>>;
}

export interface PreparedCall {
  metadata: Metadata;
  options: GrpcCallOptions;
}

/** Builds grpc-js metadata and options; `defaultDeadlineMs` applies when the call sets none. */
export function prepareCall(options: CallOptions, defaultDeadlineMs: number | undefined): PreparedCall {
  const deadlineMs = options.deadlineMs ?? defaultDeadlineMs;
  return {
    metadata: toMetadata(options.metadata),
    options: deadlineMs === undefined ? {} : { deadline: new Date(Date.now() + deadlineMs) },
  };
}

function toMetadata(source: CallOptions["metadata"]): Metadata {
  if (source instanceof Metadata) return source.clone();
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(source ?? {})) metadata.set(key, value);
  return metadata;
}
