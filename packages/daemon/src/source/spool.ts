import { randomUUID } from "node:crypto";
import { mkdir, open, rm } from "node:fs/promises";
import path from "node:path";
import { toDfError, type SourceClient, type SourceRequest } from "@df/interface";
import { pieceRange } from "@df/piece";
import type { Task as StoredTask } from "@df/storage";
import type { PieceBandwidth } from "../bandwidth.js";
import type { SourcePiece } from "./fetch-pieces.js";

export interface Spooled {
  path: string;
  length: number;
  header: Readonly<Record<string, string>>;
  /** Deletes the spool file. */
  discard(): Promise<void>;
}

/**
 * Fetches a resource whose length the origin does not announce (chunked, no HEAD) into
 * a temporary file, since a stored task must know its length up front. The file lives
 * under the store's folder so that moving it into pieces stays on one file system.
 */
export async function spoolFromSource(
  client: SourceClient,
  request: SourceRequest,
  dir: string,
  signal?: AbortSignal,
  /** The download bandwidth the body is held to, chunk by chunk, under `taskId`. */
  shaping?: { bandwidth: PieceBandwidth; taskId: string },
): Promise<Spooled> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${randomUUID()}.spool`);
  const discard = (): Promise<void> => rm(file, { force: true });
  const handle = await open(file, "w");
  let length = 0;
  try {
    const response = await client.get(request, signal ? { signal } : {});
    try {
      for await (const chunk of response.body) {
        // The chunk is here already; waiting before taking the next one holds the origin back.
        await shaping?.bandwidth.acquire(shaping.taskId, chunk.byteLength, signal ? { signal } : {});
        shaping?.bandwidth.record(shaping.taskId, chunk.byteLength);
        await handle.write(chunk, 0, chunk.byteLength, length);
        length += chunk.byteLength;
      }
    } catch (error) {
      await response.cancel().catch(() => {});
      throw error;
    }
    await handle.close();
    return { path: file, length, header: response.header, discard };
  } catch (error) {
    await handle.close().catch(() => {});
    await discard();
    throw toDfError(error);
  }
}

/** Stores the wanted pieces of a spooled resource, reading one piece at a time. */
export async function storeSpooled(
  task: StoredTask,
  spooled: Spooled,
  onPiece: (piece: SourcePiece) => void,
  signal?: AbortSignal,
): Promise<void> {
  const handle = await open(spooled.path, "r");
  try {
    const buffer = Buffer.allocUnsafe(Math.min(task.pieceLength, Math.max(task.contentLength, 1)));
    for (let number = 0; number < task.pieceCount; number++) {
      if (task.hasPiece(number)) continue;
      const started = performance.now();
      const range = pieceRange(number, task.contentLength, task.pieceLength);
      const view = buffer.subarray(0, range.length);
      let read = 0;
      while (read < range.length) {
        const { bytesRead } = await handle.read(view, read, range.length - read, range.offset + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const piece = await task.writePiece(number, view, signal ? { signal } : {});
      onPiece({ ...piece, costMs: performance.now() - started });
    }
  } finally {
    await handle.close();
  }
}
