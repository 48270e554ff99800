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
}

/**
 * The task record as stored in `{id}.json`. Times are ms since the epoch. Pieces are
 * kept here only once the task is complete (as `[crc32, finishedAt]` by piece number);
 * until then they live in the piece log, and `syncedPieceRecords` says how many of the
 * log's first records were fsynced with the content (at a clean shutdown), so that a
 * restart re-verifies only the rest.
 */
export interface TaskRecord extends TaskDescriptor {
  format: typeof METADATA_FORMAT;
  createdAt: number;
  updatedAt: number;
  accessedAt: number;
  finishedAt?: number;
  syncedPieceRecords: number;
  pieces?: Array<[crc: number, finishedAt: number]>;
}

export function encodeTaskRecord(record: TaskRecord): string {
  return JSON.stringify(record);
}

/** Parses and checks a record; anything malformed is DATA_LOSS (`corrupt-metadata`). */
export function decodeTaskRecord(text: string, expectedTaskId: string): TaskRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corrupt(expectedTaskId, "it is not JSON", error);
  }
  if (!isObject(value)) throw corrupt(expectedTaskId, "it is not an object");
  if (value["format"] !== METADATA_FORMAT) {
    throw corrupt(expectedTaskId, `its format is ${JSON.stringify(value["format"])}, expected "${METADATA_FORMAT}"`);
  }
  if (value["taskId"] !== expectedTaskId) throw corrupt(expectedTaskId, "its task ID does not match its file name");
  for (const key of ["contentLength", "syncedPieceRecords"]) {
    if (!isNonNegativeInteger(value[key])) throw corrupt(expectedTaskId, `${key} is not a non-negative integer`);
  }
  for (const key of ["createdAt", "updatedAt", "accessedAt"]) {
    if (!isTime(value[key])) throw corrupt(expectedTaskId, `${key} is not a time`);
  }
  if (!isNonNegativeInteger(value["pieceLength"]) || value["pieceLength"] === 0) {
    throw corrupt(expectedTaskId, "pieceLength is not a positive integer");
  }
  if (value["finishedAt"] !== undefined && !isTime(value["finishedAt"])) {
    throw corrupt(expectedTaskId, "finishedAt is not a time");
  }
  for (const key of ["type", "url", "tag", "application"]) {
    if (value[key] !== undefined && typeof value[key] !== "string") throw corrupt(expectedTaskId, `${key} is not a string`);
  }
  const params = value["filteredQueryParams"];
  if (params !== undefined && !(Array.isArray(params) && params.every((p) => typeof p === "string"))) {
    throw corrupt(expectedTaskId, "filteredQueryParams is not a list of strings");
  }
  const header = value["responseHeader"];
  if (!isObject(header) || !Object.values(header).every((v) => typeof v === "string")) {
    throw corrupt(expectedTaskId, "responseHeader is not a map of strings");
  }
  const pieces = value["pieces"];
  if (pieces !== undefined) {
    const count = Math.ceil((value["contentLength"] as number) / (value["pieceLength"] as number));
    const valid =
      Array.isArray(pieces) &&
      pieces.length === count &&
      pieces.every(
        (p) => Array.isArray(p) && p.length === 2 && isNonNegativeInteger(p[0]) && (p[0] as number) <= 0xffff_ffff && isTime(p[1]),
      );
    if (!valid) throw corrupt(expectedTaskId, "pieces is not one [crc32, finishedAt] pair per piece");
  }
  if ((value["finishedAt"] === undefined) !== (pieces === undefined)) {
    throw corrupt(expectedTaskId, "finishedAt and pieces must be both present or both absent");
  }
  return value as unknown as TaskRecord;
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
