import { isAbsolute, resolve } from "node:path";
import { DfError } from "@df/interface/errors";
import { parseDuration, timerDuration } from "@df/interface/units";
import { DEFAULT_ENDPOINT } from "../dfget/options.js";

/** Flags every dfcache command takes. */
export interface RawCacheFlags {
  cid?: string;
  tag?: string;
  endpoint?: string;
  timeout?: string;
  progress?: boolean;
  json?: boolean;
  local?: boolean;
  output?: string;
  overwrite?: boolean;
  remote?: boolean;
  /** delete: an origin URL instead of a cid. */
  url?: string;
  application?: string;
}

export interface CacheOptions {
  /** Empty when the command names an origin URL instead (`delete --url`). */
  cid: string;
  /** delete --url: every task of this origin URL on this host. */
  url?: string;
  application?: string;
  tag?: string;
  endpoint: string;
  /** 0: no limit. */
  timeoutMs: number;
  progress: boolean;
  json: boolean;
}

function usage(message: string): DfError {
  return new DfError("INVALID_ARGUMENT", message, { reason: "usage" });
}

export function resolveCacheOptions(flags: RawCacheFlags): CacheOptions {
  if (flags.url !== undefined && flags.cid) throw usage("give --cid or --url, not both");
  if (flags.url !== undefined) {
    try {
      new URL(flags.url);
    } catch {
      throw usage(`"${flags.url}" is not a URL; give the full URL the data was downloaded from, such as https://example.com/file.tar`);
    }
  }
  if (!flags.cid && flags.url === undefined) throw usage("the cache ID is required: --cid <id> (any string, e.g. sha256:<hex> of the content)");
  const timeoutMs = flags.timeout ? timerDuration(parseDuration(flags.timeout), "--timeout") : 0;
  return {
    cid: flags.cid ?? "",
    ...(flags.url !== undefined ? { url: flags.url } : {}),
    ...(flags.application ? { application: flags.application } : {}),
    ...(flags.tag ? { tag: flags.tag } : {}),
    endpoint: flags.endpoint ?? DEFAULT_ENDPOINT,
    timeoutMs,
    progress: (flags.progress ?? true) && !flags.json,
    json: flags.json ?? false,
  };
}

/** A path from the command line, absolute (the daemon does not know our working directory). */
export function absolute(file: string, cwd = process.cwd()): string {
  return isAbsolute(file) ? file : resolve(cwd, file);
}
