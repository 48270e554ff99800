import path from "node:path";
import { DfError } from "@df/interface";

/**
 * Task IDs become file names, so only characters that cannot climb out of a directory
 * or collide with our suffixes are allowed. Dragonfly task IDs are 64 hex digits; the
 * looser pattern leaves room for test IDs and other ID schemes without allowing `.`.
 */
const TASK_ID = /^[A-Za-z0-9_-]{3,200}$/;

export function assertTaskId(taskId: string): void {
  if (typeof taskId !== "string" || !TASK_ID.test(taskId)) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `task ID ${JSON.stringify(taskId)} is not valid: use 3 to 200 characters from A-Z, a-z, 0-9, "_" and "-" (a Dragonfly task ID is 64 hex digits)`,
      { details: { taskId } },
    );
  }
}

export function isTaskId(name: string): boolean {
  return TASK_ID.test(name);
}

export const METADATA_SUFFIX = ".json";
export const PIECE_LOG_SUFFIX = ".pieces";
export const TEMP_SUFFIX = ".tmp";

export interface TaskPaths {
  /** The task's bytes, one preallocated file. */
  content: string;
  /** The task's JSON record, replaced atomically. */
  metadata: string;
  /** The append-only log of pieces finished since the record was last rewritten. */
  pieceLog: string;
}

/**
 * Where things live under the storage root, after Dragonfly's Rust client:
 * `content/tasks/{id[0:3]}/{id}` for bytes, and `metadata/tasks/{id[0:3]}/{id}.json` and
 * `.pieces` beside it. The three-character prefix keeps directories small (at most
 * 4096 of them for hex IDs) so that no single readdir holds every task.
 */
export class Layout {
  readonly root: string;
  readonly contentRoot: string;
  readonly metadataRoot: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.contentRoot = path.join(this.root, "content", "tasks");
    this.metadataRoot = path.join(this.root, "metadata", "tasks");
  }

  paths(taskId: string): TaskPaths {
    const prefix = taskId.slice(0, 3);
    const metadataDir = path.join(this.metadataRoot, prefix);
    return {
      content: path.join(this.contentRoot, prefix, taskId),
      metadata: path.join(metadataDir, taskId + METADATA_SUFFIX),
      pieceLog: path.join(metadataDir, taskId + PIECE_LOG_SUFFIX),
    };
  }
}
