import type { AbortOptions } from "../abort.js";

export interface SourceRequest {
  readonly url: string;
  readonly header?: Readonly<Record<string, string>>;
  /** Per-request deadline in ms, on top of any AbortSignal. */
  readonly timeoutMs?: number;
}

export interface SourceStat {
  /** Undefined when the origin does not say (chunked, no HEAD support). */
  readonly contentLength?: number;
  /** True when the origin honours byte ranges (answered 206 to a ranged probe). */
  readonly supportsRange: boolean;
  readonly header?: Readonly<Record<string, string>>;
  /** Validators that tell whether a stored copy is still current. */
  readonly etag?: string;
  readonly lastModified?: string;
}

/** What tells one version of a resource from another; any of them may be missing. */
export interface SourceValidators {
  readonly etag?: string;
  readonly lastModified?: string;
  readonly contentLength?: number;
}

export interface SourceValidatorsRequest extends SourceRequest {
  /**
   * The validators of the copy the caller holds: sent as If-None-Match /
   * If-Modified-Since (or the scheme's equivalent) so the origin can answer
   * "not modified" without describing the resource again.
   */
  readonly known?: SourceValidators;
}

export interface SourceGetRequest extends SourceRequest {
  /** Inclusive start and byte count; omit for the whole resource. */
  readonly range?: { readonly start: number; readonly length: number };
  /**
   * The resource's full length as the caller learnt it (from `stat`). An answer that
   * shows another total (Content-Range, or the length of a whole-resource answer)
   * means the resource changed under the caller: ABORTED, reason `source-changed`, so
   * that pieces of two versions are never mixed in one task.
   */
  readonly expectedLength?: number;
}

export interface SourceResponse {
  readonly status?: number;
  readonly header: Readonly<Record<string, string>>;
  /** Length of `body` when known. */
  readonly contentLength?: number;
  /** The bytes, in order; consume it or call `cancel`. */
  readonly body: AsyncIterable<Uint8Array>;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * Reads a task's bytes from where they originally live (HTTP, S3, a local file). The
 * daemon picks a client by URL scheme; a client says which schemes it serves.
 */
export interface SourceClient {
  readonly name: string;
  readonly schemes: readonly string[];
  stat(request: SourceRequest, options?: AbortOptions): Promise<SourceStat>;
  get(request: SourceGetRequest, options?: AbortOptions): Promise<SourceResponse>;
  /**
   * The resource's current validators in one conditional round trip (HEAD with
   * If-None-Match / If-Modified-Since for HTTP): `known` back when the origin says it is
   * not modified. Optional: the daemon falls back to `stat` (and compares its etag,
   * lastModified and contentLength) for a client without it.
   */
  validators?(request: SourceValidatorsRequest, options?: AbortOptions): Promise<SourceValidators>;
  close?(): void | Promise<void>;
}
