import { DfError } from "@df/interface";

/** Bumped when the JSON changes incompatibly; a record of another format is dropped. */
export const METADATA_FORMAT = "df-storage-task/1";

/** What identifies a task's content and how the daemon asked for it. */
export interface TaskDescriptor {
  taskId: string;
  contentLength: number;
  pieceLength: number;
  /** Dragonfly task type (`standard`, `persistent`, `persistent-cache`, …), if known. */
  type?: string;
  url?: string;
  tag?: string;
  application?: string;
  filteredQueryParams?: string[];
  /** The origin's response header, replayed when the task is served from the cache. */
  responseHeader: Record<string, string>;
  /**
   * The task ID of the URL without a version: every version of one URL's content shares
   * it (unset when the task is unversioned, its ID being the base itself).
   */
  baseTaskId?: string;
  /** The version string hashed into the task ID (the caller's encoding; opaque here). */
  version?: string;
  /** The origin's validators of the stored content, for conditional requests later. */
  validators?: StoredValidators;
}

export interface StoredValidators {
  etag?: string;
  lastModified?: string;
  contentLength?: number;
}

/**
 * The task record as stored in `{id}.json`. Times are ms since the epoch. Pieces are
 * kept here only once the task is complete (as `[crc32, finishedAt]` by piece number);
 * until then they live in the piece log, and `syncedPieceRecords` says how many of the
 * log's first records were fsynced with the content (at a clean shutdown), so that a
 * restart re-verifies only the rest.
 */
/**
 * The content file as it was when the task completed: a later local hit compares it
 * with a fresh stat (one system call) and re-verifies the pieces only when it differs,
 * so bytes changed behind the store's back (an edited hard link, a direct write) are
 * never handed out.
 */
export interface ContentStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export interface TaskRecord extends TaskDescriptor {
  format: typeof METADATA_FORMAT;
  createdAt: number;
  updatedAt: number;
  accessedAt: number;
  finishedAt?: number;
  syncedPieceRecords: number;
  pieces?: Array<[crc: number, finishedAt: number]>;
  /** Only in a complete record; absent in records from before it was kept (verified at the next hit). */
  contentStat?: ContentStat;
}

export function encodeTaskRecord(record: TaskRecord): string {
  return JSON.stringify(record);
}

/** Parses and checks a record; anything malformed is DATA_LOSS (`corrupt-metadata`). */
export function decodeTaskRecord(text: string, expectedTaskId: string): TaskRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt(expectedTaskId, "it is not JSON", error);
  }
  if (!isObject(parsed)) throw corrupt(expectedTaskId, "it is not an object");
  const value = parsed;
  /** `value[key]` if `ok` says it is a `T`; else corrupt, `key why`. */
  const field = <T>(key: string, ok: (v: unknown) => v is T, why: string): T => {
    const v = value[key];
    if (!ok(v)) throw corrupt(expectedTaskId, `${key} ${why}`);
    return v;
  };
  const optional = <T>(key: string, ok: (v: unknown) => v is T, why: string): T | undefined =>
    value[key] === undefined ? undefined : field(key, ok, why);

  if (value["format"] !== METADATA_FORMAT) {
    throw corrupt(expectedTaskId, `its format is ${JSON.stringify(value["format"])}, expected "${METADATA_FORMAT}"`);
  }
  if (value["taskId"] !== expectedTaskId) throw corrupt(expectedTaskId, "its task ID does not match its file name");
  const contentLength = field("contentLength", isNonNegativeInteger, "is not a non-negative integer");
  const syncedPieceRecords = field("syncedPieceRecords", isNonNegativeInteger, "is not a non-negative integer");
  const createdAt = field("createdAt", isTime, "is not a time");
  const updatedAt = field("updatedAt", isTime, "is not a time");
  const accessedAt = field("accessedAt", isTime, "is not a time");
  const pieceLength = field("pieceLength", isPositiveInteger, "is not a positive integer");
  const finishedAt = optional("finishedAt", isTime, "is not a time");
  const type = optional("type", isString, "is not a string");
  const url = optional("url", isString, "is not a string");
  const tag = optional("tag", isString, "is not a string");
  const application = optional("application", isString, "is not a string");
  const filteredQueryParams = optional("filteredQueryParams", isStringList, "is not a list of strings");
  const responseHeader = field("responseHeader", isStringMap, "is not a map of strings");
  const baseTaskId = optional("baseTaskId", isString, "is not a string");
  const version = optional("version", isString, "is not a string");
  const validators = optional("validators", isValidators, "is not a map of etag, lastModified, contentLength");
  const count = Math.ceil(contentLength / pieceLength);
  const isPieceList = (p: unknown): p is Array<[number, number]> =>
    Array.isArray(p) &&
    p.length === count &&
    p.every((x) => Array.isArray(x) && x.length === 2 && isNonNegativeInteger(x[0]) && x[0] <= 0xffff_ffff && isTime(x[1]));
  const pieces = optional("pieces", isPieceList, "is not one [crc32, finishedAt] pair per piece");
  const contentStat = optional("contentStat", isContentStat, "is not {size, mtimeMs, ctimeMs, ino}");
  if ((finishedAt === undefined) !== (pieces === undefined)) {
    throw corrupt(expectedTaskId, "finishedAt and pieces must be both present or both absent");
  }
  return {
    format: METADATA_FORMAT,
    taskId: expectedTaskId,
    contentLength,
    pieceLength,
    ...(type === undefined ? {} : { type }),
    ...(url === undefined ? {} : { url }),
    ...(tag === undefined ? {} : { tag }),
    ...(application === undefined ? {} : { application }),
    ...(filteredQueryParams === undefined ? {} : { filteredQueryParams }),
    responseHeader,
    ...(baseTaskId === undefined ? {} : { baseTaskId }),
    ...(version === undefined ? {} : { version }),
    ...(validators === undefined ? {} : { validators }),
    createdAt,
    updatedAt,
    accessedAt,
    ...(finishedAt === undefined ? {} : { finishedAt }),
    syncedPieceRecords,
    ...(pieces === undefined ? {} : { pieces }),
    ...(contentStat === undefined ? {} : { contentStat }),
  };
}

function corrupt(taskId: string, why: string, cause?: unknown): DfError {
  return new DfError("DATA_LOSS", `the metadata of task ${taskId} is corrupt: ${why}`, {
    reason: "corrupt-metadata",
    details: { taskId },
    ...(cause === undefined ? {} : { cause }),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** ms since the epoch; not necessarily whole, since the clock is injectable. */
function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isPositiveInteger(value: unknown): value is number {
  return isNonNegativeInteger(value) && value > 0;
}

function isContentStat(value: unknown): value is ContentStat {
  return (
    isObject(value) &&
    isNonNegativeInteger(value["size"]) &&
    isTime(value["mtimeMs"]) &&
    isTime(value["ctimeMs"]) &&
    // Inode numbers can pass 2^53 on some file systems; only sameness matters here.
    isTime(value["ino"])
  );
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isString);
}

function isValidators(value: unknown): value is StoredValidators {
  if (!isObject(value)) return false;
  const { etag, lastModified, contentLength, ...rest } = value;
  return (
    Object.keys(rest).length === 0 &&
    (etag === undefined || isString(etag)) &&
    (lastModified === undefined || isString(lastModified)) &&
    (contentLength === undefined || isNonNegativeInteger(contentLength))
  );
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every(isString);
}
