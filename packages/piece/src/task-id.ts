import { createHash, type Hash } from "node:crypto";
import { DfError } from "@df/interface/errors";
import { filterUrl } from "./query-params.js";
import { assertNonNegativeInteger } from "./validate.js";

/** The task types of Dragonfly v2 (`common.v2.TaskType`); the name is hashed into the ID. */
export const TASK_TYPES = ["STANDARD", "PERSISTENT", "PERSISTENT_CACHE"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export interface TaskIdInput {
  url: string;
  tag?: string;
  application?: string;
  /** Repository revision of a Hugging Face / ModelScope / OpenCSG download. */
  revision?: string;
  /** Only when the user fixed it; a computed piece length is not part of the ID. */
  pieceLength?: number;
  /** Defaults to DEFAULT_FILTERED_QUERY_PARAMS; `[]` hashes the URL exactly as given. */
  filteredQueryParams?: readonly string[];
  type?: TaskType;
  /**
   * privateScope's answer for a download that carries credentials; hashed after the
   * type, so the ID of public content stays the upstream one.
   */
  scope?: string;
  /**
   * The origin's version the task holds (its validators, see the daemon's revalidation);
   * hashed last, so content without validators keeps the upstream ID and a changed
   * origin (new ETag, Last-Modified or length) makes a new task instead of mixing bytes.
   */
  version?: string;
}

/**
 * The Dragonfly v2 ID of a URL-based task: lowercase hex SHA-256 over, with no
 * separators, the filtered URL, then tag, application, revision and the decimal piece
 * length when set, then the task type name. Range, digest, headers and priority are not
 * part of it, so ranged requests share the whole-file task; only a private scope (a
 * download with credentials, see privateScope) and the origin's version (its
 * validators) are added after the type.
 */
export function taskId(input: TaskIdInput): string {
  const type = input.type ?? "STANDARD";
  if (!(TASK_TYPES as readonly string[]).includes(type)) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `task type "${String(type)}" is not known; use one of ${TASK_TYPES.join(", ")}`,
      { details: { type } },
    );
  }
  // No range check: upstream hashes whatever length was requested (its own vectors use
  // 1024), and pieceLengthFor rejects bad lengths before any download starts.
  if (input.pieceLength !== undefined) assertNonNegativeInteger(input.pieceLength, "pieceLength");

  const hash = createHash("sha256").update(filterUrl(input.url, input.filteredQueryParams));
  updateIfSet(hash, input.tag);
  updateIfSet(hash, input.application);
  updateIfSet(hash, input.revision);
  if (input.pieceLength !== undefined) hash.update(String(input.pieceLength));
  hash.update(type);
  if (input.scope) hash.update(`\u0000scope:${input.scope}`);
  if (input.version) hash.update(`\u0000version:${input.version}`);
  return hash.digest("hex");
}

/** The ID of a task named by an explicit content string (`content_for_calculating_task_id`). */
export function taskIdFromContent(content: string): string {
  return createHash("sha256").update(content).digest("hex");
}

export interface PersistentCacheTaskIdOptions {
  tag?: string;
  application?: string;
  pieceLength?: number;
}

/**
 * The ID of a file imported with dfcache: SHA-256 over the file's bytes, then tag,
 * application and decimal piece length when set, then `PERSISTENT_CACHE`. Feed the file
 * through `update` as it is read, then call `finish` once.
 */
export class PersistentCacheTaskIdBuilder {
  readonly #hash = createHash("sha256");
  #finished = false;

  update(chunk: Uint8Array): this {
    this.#assertOpen();
    this.#hash.update(chunk);
    return this;
  }

  finish(options: PersistentCacheTaskIdOptions = {}): string {
    this.#assertOpen();
    if (options.pieceLength !== undefined) assertNonNegativeInteger(options.pieceLength, "pieceLength");
    this.#finished = true;
    updateIfSet(this.#hash, options.tag);
    updateIfSet(this.#hash, options.application);
    if (options.pieceLength !== undefined) this.#hash.update(String(options.pieceLength));
    return this.#hash.update("PERSISTENT_CACHE").digest("hex");
  }

  #assertOpen(): void {
    if (this.#finished) {
      throw new DfError(
        "FAILED_PRECONDITION",
        "the persistent cache task ID was already computed; start a new builder for another file",
      );
    }
  }
}

function updateIfSet(hash: Hash, part: string | undefined): void {
  if (part !== undefined) hash.update(part);
}
