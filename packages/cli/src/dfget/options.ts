import { access, lstat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { DfError } from "@df/interface/errors";
import { parseDuration, timerDuration } from "@df/interface/units";
import { DEFAULT_FILTERED_QUERY_PARAMS, MIN_PIECE_LENGTH, MAX_PIECE_LENGTH, parseDigest } from "@df/piece";

export interface DfgetOptions {
  url: string;
  /** Absolute output path, or "-" for stdout. */
  output: string;
  digest?: string;
  tag?: string;
  application?: string;
  header: Record<string, string>;
  filteredQueryParams: string[];
  /** `start-end` as given; the daemon and the direct path both parse it. */
  range?: string;
  priority?: number;
  pieceLength?: number;
  timeoutMs: number;
  disableBackToSource: boolean;
  overwrite: boolean;
  /** Hard-link the output to the daemon's cached copy instead of giving it bytes of its own. */
  hardLink: boolean;
  endpoint: string;
  progress: boolean;
}

export interface RawDfgetFlags {
  output?: string;
  digest?: string;
  tag?: string;
  application?: string;
  header?: string[];
  filteredQueryParam?: string[];
  range?: string;
  priority?: string;
  pieceLength?: string;
  timeout?: string;
  disableBackToSource?: boolean;
  overwrite?: boolean;
  hardLink?: boolean;
  endpoint?: string;
  progress?: boolean;
}

export const DEFAULT_ENDPOINT = process.env.DF_DAEMON_SOCKET ?? "/run/df/dfdaemon.sock";

function usage(message: string): DfError {
  return new DfError("INVALID_ARGUMENT", message, { reason: "usage" });
}

function parseHeader(line: string): [string, string] {
  const at = line.indexOf(":");
  const name = at > 0 ? line.slice(0, at).trim() : "";
  if (!name || /\s/.test(name)) throw usage(`invalid header "${line}": write it as "Name: value"`);
  return [name, line.slice(at + 1).trim()];
}

/** Turns flags into options, refusing what cannot work before anything is downloaded. */
export async function resolveDfgetOptions(url: string, flags: RawDfgetFlags, cwd = process.cwd()): Promise<DfgetOptions> {
  try {
    new URL(url);
  } catch {
    throw usage(`"${url}" is not a URL; give a full URL such as https://example.com/file.tar`);
  }
  if (!flags.output) throw usage("the output path is required: -O <path>, or -O - for standard output");
  const output = flags.output === "-" ? "-" : isAbsolute(flags.output) ? flags.output : resolve(cwd, flags.output);
  if (output !== "-") {
    const existing = await lstat(output).catch(() => undefined);
    // Replacing a device, FIFO or socket with a regular file is never what was meant (as root: /dev/null).
    if (existing && !existing.isFile() && !existing.isSymbolicLink() && !existing.isDirectory()) {
      throw usage(`${output} is not a regular file (a device, FIFO or socket); dfget writes regular files only: give a file path, or -O - for standard output`);
    }
  }
  if (output !== "-" && !flags.overwrite) {
    const exists = await access(output).then(
      () => true,
      () => false,
    );
    if (exists) {
      throw new DfError("ALREADY_EXISTS", `${output} already exists; pass --overwrite to replace it`, {
        reason: "output-exists",
      });
    }
  }
  if (flags.hardLink && output === "-") throw usage("--hard-link needs a file output: standard output cannot be a link");
  if (flags.digest) parseDigest(flags.digest);
  const header = Object.fromEntries((flags.header ?? []).map(parseHeader));
  const filteredQueryParams = flags.filteredQueryParam?.flatMap((p) => p.split(",")).map((p) => p.trim()).filter(Boolean);
  let pieceLength: number | undefined;
  if (flags.pieceLength !== undefined) {
    pieceLength = Number(flags.pieceLength);
    if (!Number.isInteger(pieceLength) || pieceLength < MIN_PIECE_LENGTH || pieceLength > MAX_PIECE_LENGTH) {
      throw usage(`--piece-length must be a whole number of bytes from ${MIN_PIECE_LENGTH} to ${MAX_PIECE_LENGTH}`);
    }
  }
  let priority: number | undefined;
  if (flags.priority !== undefined) {
    priority = Number(flags.priority);
    if (!Number.isInteger(priority) || priority < 0 || priority > 6) throw usage("--priority must be 0 to 6");
  }
  if (flags.range !== undefined && !/^(bytes=)?(\d+-\d*|-\d+)$/.test(flags.range.trim())) {
    throw usage(`invalid --range "${flags.range}": use start-end, start- or -suffix (bytes, inclusive)`);
  }
  return {
    url,
    output,
    ...(flags.digest ? { digest: flags.digest } : {}),
    ...(flags.tag ? { tag: flags.tag } : {}),
    ...(flags.application ? { application: flags.application } : {}),
    header,
    filteredQueryParams: filteredQueryParams ?? [...DEFAULT_FILTERED_QUERY_PARAMS],
    ...(flags.range ? { range: flags.range.trim().replace(/^bytes=/, "") } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(pieceLength !== undefined ? { pieceLength } : {}),
    timeoutMs: flags.timeout ? timerDuration(parseDuration(flags.timeout), "--timeout") : 0,
    disableBackToSource: flags.disableBackToSource ?? false,
    overwrite: flags.overwrite ?? false,
    hardLink: flags.hardLink ?? false,
    endpoint: flags.endpoint ?? DEFAULT_ENDPOINT,
    progress: flags.progress ?? true,
  };
}
