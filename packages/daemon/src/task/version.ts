import { DfError, type SourceStat, type SourceValidators } from "@df/interface";

/**
 * What names one version of a URL's content: the origin's validators, and, for a
 * download re-fetched because the held version failed the user's digest, that digest.
 */
export interface TaskVersion extends SourceValidators {
  readonly digest?: string;
}

/**
 * The version as a string hashed into the task ID (`Download.version`): canonical JSON
 * (fixed key order, absent keys left out), so every daemon that saw the same validators
 * names the same task. The ETag, when there is one, stands for the content alone (as
 * If-None-Match takes precedence over If-Modified-Since): servers behind one name may
 * disagree on Last-Modified for the same bytes. Undefined when nothing tells versions
 * apart: such content keeps the upstream task ID.
 */
export function encodeVersion(version: TaskVersion): string | undefined {
  const parts: Array<[string, string | number]> = [];
  if (version.etag) parts.push(["etag", version.etag]);
  else if (version.lastModified) parts.push(["lastModified", version.lastModified]);
  if (version.contentLength !== undefined) parts.push(["contentLength", version.contentLength]);
  if (version.digest) parts.push(["digest", version.digest]);
  return parts.length === 0 ? undefined : JSON.stringify(Object.fromEntries(parts));
}

/** Longest `Download.version` accepted, in UTF-16 units (the scheduler's limits.maxStringLength is 1024 bytes). */
const MAX_VERSION_LENGTH = 1024;

/** Parses `Download.version`; anything else than encodeVersion's output is INVALID_ARGUMENT. */
export function decodeVersion(text: string): TaskVersion {
  // A remote caller names it; an ETag and a date fit in far less, and the ID cache keys on it.
  if (text.length > MAX_VERSION_LENGTH) throw invalid(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(text, error);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid(text);
  const value = parsed as Record<string, unknown>;
  const string = (key: string): string | undefined => {
    const v = value[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v === "") throw invalid(text);
    return v;
  };
  const length = value["contentLength"];
  if (length !== undefined && !(typeof length === "number" && Number.isSafeInteger(length) && length >= 0)) throw invalid(text);
  if (Object.keys(value).some((key) => !["etag", "lastModified", "contentLength", "digest"].includes(key))) throw invalid(text);
  const etag = string("etag");
  const lastModified = string("lastModified");
  const digest = string("digest");
  const version: TaskVersion = {
    ...(etag ? { etag } : {}),
    ...(lastModified ? { lastModified } : {}),
    ...(length === undefined ? {} : { contentLength: length as number }),
    ...(digest ? { digest } : {}),
  };
  // Only the canonical form names a task: two spellings of one version would be two tasks.
  if (encodeVersion(version) !== text) throw invalid(text);
  return version;
}

/** The validators of the resource a stat describes. */
export function validatorsOfStat(stat: SourceStat): SourceValidators {
  return {
    ...(stat.etag ? { etag: stat.etag } : {}),
    ...(stat.lastModified ? { lastModified: stat.lastModified } : {}),
    ...(stat.contentLength === undefined ? {} : { contentLength: stat.contentLength }),
  };
}

/**
 * Whether `current` still describes the content `held` names: the ETag when both have
 * one, else Last-Modified, and the length, must agree (an answer that leaves one out,
 * such as a 304 without a length, does not count against it).
 */
export function sameContent(held: SourceValidators, current: SourceValidators): boolean {
  if (held.etag && current.etag) {
    if (held.etag !== current.etag) return false;
  } else if (held.lastModified && current.lastModified && held.lastModified !== current.lastModified) return false;
  if (held.contentLength !== undefined && current.contentLength !== undefined && held.contentLength !== current.contentLength) return false;
  return true;
}

/** Only the origin's part of a version (no digest). */
export function validatorsOf(version: TaskVersion): SourceValidators {
  const { digest: _digest, ...validators } = version;
  return validators;
}

/** For messages: `ETag "x", Last-Modified …, 123 bytes`. */
export function describeValidators(validators: SourceValidators): string {
  const parts = [
    ...(validators.etag ? [`ETag ${validators.etag}`] : []),
    ...(validators.lastModified ? [`Last-Modified ${validators.lastModified}`] : []),
    ...(validators.contentLength === undefined ? [] : [`${validators.contentLength} bytes`]),
  ];
  return parts.length > 0 ? parts.join(", ") : "no validators";
}

function invalid(text: string, cause?: unknown): DfError {
  return new DfError("INVALID_ARGUMENT", `download.version ${JSON.stringify(text.slice(0, 200))} is not a task version (canonical JSON of etag, lastModified, contentLength, digest)`, {
    reason: "invalid-version",
    ...(cause === undefined ? {} : { cause }),
  });
}
