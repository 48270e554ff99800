import { DfError } from "@df/interface";
import { pieceLengthFor, privateScope, taskId, taskIdFromContent, type TaskType } from "@df/piece";
import { common } from "@df/rpc";
import { decodeVersion, type TaskVersion } from "./version.js";

/** What names a task: the inputs of its ID, and the ID. */
export interface TaskIdentity {
  taskId: string;
  url: string;
  type: TaskType;
  tag?: string;
  application?: string;
  /** Only when the client fixed it; it is then part of the ID. */
  pieceLength?: number;
  /** As the client gave them; empty means the default list. */
  filteredQueryParams: string[];
  /**
   * The ID without the version: every version of one URL (with the same tag,
   * application…) shares it, which is how the old ones are found and superseded.
   */
  baseTaskId: string;
  /** The origin's version (`Download.version`), hashed into the task ID. */
  version?: string;
  /** The version, parsed. */
  validators?: TaskVersion;
}

/** The fields of a request that name a task (Download, StatTask, DeleteTask, ExportTask). */
export interface TaskNaming {
  url: string;
  type: common.TaskType;
  tag?: string | undefined;
  application?: string | undefined;
  pieceLength?: number | undefined;
  filteredQueryParams: readonly string[];
  contentForCalculatingTaskId?: string | undefined;
  /** With credentials among them, the task is private to callers that send the same (see privateScope). */
  requestHeader?: Readonly<Record<string, string>> | undefined;
  /** The whole-file digest the download is checked against, if any. */
  digest?: string | undefined;
  /** The origin's version the download was revalidated against (see ./version.ts). */
  version?: string | undefined;
}

export function taskTypeOf(type: common.TaskType): TaskType {
  return type === common.TaskType.PERSISTENT_CACHE ? "PERSISTENT_CACHE" : "STANDARD";
}

export function taskTypeToProto(type: string | undefined): common.TaskType {
  return type === "PERSISTENT_CACHE" ? common.TaskType.PERSISTENT_CACHE : common.TaskType.STANDARD;
}

/**
 * The Dragonfly v2 task ID of a request, and the parts it was made from. The URL must
 * be absolute; a fixed piece length must lie in 4–64 MiB (checked here so that a bad
 * one fails before anything is fetched).
 */
export function identify(naming: TaskNaming): TaskIdentity {
  const type = taskTypeOf(naming.type);
  const filtered = [...naming.filteredQueryParams];
  const scope = privateScope({ headers: naming.requestHeader, digest: naming.digest });
  const key = JSON.stringify([naming.url, type, naming.tag, naming.application, naming.pieceLength, filtered, naming.contentForCalculatingTaskId, scope]);
  const baseTaskId = knownIds.get(key) ?? remember(key, computeTaskId(naming, type, filtered, scope, undefined));
  // Content named by a string has no origin, so no versions.
  const version = naming.version && !naming.contentForCalculatingTaskId ? naming.version : undefined;
  const validators = version === undefined ? undefined : decodeVersion(version);
  let id = baseTaskId;
  if (version !== undefined) {
    const versionKey = JSON.stringify([key, version]);
    id = knownIds.get(versionKey) ?? remember(versionKey, computeTaskId(naming, type, filtered, scope, version));
  }
  return {
    taskId: id,
    url: naming.url,
    type,
    ...(naming.tag ? { tag: naming.tag } : {}),
    ...(naming.application ? { application: naming.application } : {}),
    ...(naming.pieceLength ? { pieceLength: naming.pieceLength } : {}),
    filteredQueryParams: filtered,
    baseTaskId,
    ...(version === undefined ? {} : { version, validators: validators! }),
  };
}

/**
 * Task IDs of namings seen lately. Clients name a task by the same inputs again and
 * again (stat, export, delete of one cid); parsing the URL and hashing them cost more
 * than the rest of a local stat. Only valid namings get here.
 */
const knownIds = new Map<string, string>();
const KNOWN_IDS = 4096;

function remember(key: string, id: string): string {
  // Oldest first: a Map iterates in insertion order.
  if (knownIds.size >= KNOWN_IDS) knownIds.delete(knownIds.keys().next().value as string);
  knownIds.set(key, id);
  return id;
}

function computeTaskId(naming: TaskNaming, type: TaskType, filtered: string[], scope: string | undefined, version: string | undefined): string {
  if (!naming.url) {
    throw new DfError("INVALID_ARGUMENT", "download.url is required: the URL to fetch", { reason: "missing-url" });
  }
  try {
    new URL(naming.url);
  } catch (error) {
    throw new DfError("INVALID_ARGUMENT", `"${naming.url}" is not an absolute URL; give one such as https://example.com/file`, {
      cause: error,
      reason: "invalid-url",
    });
  }
  if (naming.pieceLength !== undefined && naming.pieceLength !== 0) pieceLengthFor(0, naming.pieceLength);
  return naming.contentForCalculatingTaskId
    ? taskIdFromContent(naming.contentForCalculatingTaskId)
    : taskId({
        url: naming.url,
        type,
        ...(naming.tag ? { tag: naming.tag } : {}),
        ...(naming.application ? { application: naming.application } : {}),
        ...(naming.pieceLength ? { pieceLength: naming.pieceLength } : {}),
        ...(filtered.length > 0 ? { filteredQueryParams: filtered } : {}),
        ...(scope ? { scope } : {}),
        ...(version ? { version } : {}),
      });
}

/** A task ID given directly, or derived from the naming fields; one of the two is required. */
export function taskIdOf(request: TaskNaming & { taskId: string }): string {
  if (request.taskId) {
    if (!/^[A-Za-z0-9_-]{3,200}$/.test(request.taskId)) {
      throw new DfError("INVALID_ARGUMENT", `task_id "${request.taskId}" is not a task ID (a Dragonfly task ID is 64 hex digits)`, {
        reason: "invalid-task-id",
      });
    }
    return request.taskId;
  }
  if (!request.url) {
    throw new DfError("INVALID_ARGUMENT", "name the task by task_id, or by url (with tag, application, piece_length as used to download it)", {
      reason: "missing-task",
    });
  }
  return identify(request).taskId;
}

/** The Download that names this task to a scheduler; `extra` adds what a call needs. */
export function identityDownload(identity: TaskIdentity, extra: Partial<common.Download> = {}): common.Download {
  return common.Download.create({
    url: identity.url,
    type: taskTypeToProto(identity.type),
    ...(identity.tag ? { tag: identity.tag } : {}),
    ...(identity.application ? { application: identity.application } : {}),
    ...(identity.pieceLength ? { pieceLength: identity.pieceLength } : {}),
    filteredQueryParams: identity.filteredQueryParams,
    ...(identity.version ? { version: identity.version } : {}),
    ...extra,
  });
}

/** What the store records of a task's identity when it creates it. */
export function storedIdentity(identity: TaskIdentity): {
  type: string;
  url: string;
  tag?: string;
  application?: string;
  filteredQueryParams?: string[];
  baseTaskId?: string;
  version?: string;
} {
  return {
    type: identity.type,
    url: identity.url,
    ...(identity.tag ? { tag: identity.tag } : {}),
    ...(identity.application ? { application: identity.application } : {}),
    ...(identity.filteredQueryParams.length > 0 ? { filteredQueryParams: identity.filteredQueryParams } : {}),
    ...(identity.baseTaskId !== identity.taskId ? { baseTaskId: identity.baseTaskId } : {}),
    ...(identity.version ? { version: identity.version } : {}),
  };
}

/**
 * The origin's validators to keep with a stored task, for the conditional request of a
 * later download: the version's, with what the origin's answer said besides (its
 * Last-Modified next to an ETag; all of them for content that was not revalidated).
 */
export function storedValidators(
  identity: TaskIdentity,
  responseHeader: Readonly<Record<string, string>> | undefined,
  contentLength: number,
): { validators?: { etag?: string; lastModified?: string; contentLength?: number } } {
  const from = {
    ...(responseHeader?.["etag"] ? { etag: responseHeader["etag"] } : {}),
    ...(responseHeader?.["last-modified"] ? { lastModified: responseHeader["last-modified"] } : {}),
    ...identity.validators,
  };
  const validators = {
    ...(from.etag ? { etag: from.etag } : {}),
    ...(from.lastModified ? { lastModified: from.lastModified } : {}),
    ...(from.etag || from.lastModified || identity.validators?.contentLength !== undefined ? { contentLength } : {}),
  };
  return Object.keys(validators).length > 0 ? { validators } : {};
}
