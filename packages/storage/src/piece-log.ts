import type { FileHandle } from "node:fs/promises";
import { crc32 } from "@df/piece";

/**
 * The piece log: one fixed-size binary record appended per finished piece, so that
 * finishing a piece costs one small append instead of rewriting the task's record.
 *
 * Record layout (24 bytes, little-endian):
 *   0  u32  piece number
 *   4  u32  piece length
 *   8  u32  CRC-32 of the piece's bytes
 *  12  f64  finished at, ms since the epoch
 *  20  u32  CRC-32 of bytes 0..20, so a torn or garbled record is recognised
 *
 * A crash can leave the last record half written (or, on some file systems, padded
 * with zeros); decoding keeps every record whose own checksum holds and ignores the
 * rest, and the loader rewrites the log so later appends stay aligned.
 */
export const PIECE_RECORD_SIZE = 24;

export interface PieceLogRecord {
  number: number;
  length: number;
  crc: number;
  finishedAt: number;
}

export function encodePieceRecord(record: PieceLogRecord, target: Buffer = Buffer.alloc(PIECE_RECORD_SIZE), offset = 0): Buffer {
  target.writeUInt32LE(record.number, offset);
  target.writeUInt32LE(record.length, offset + 4);
  target.writeUInt32LE(record.crc >>> 0, offset + 8);
  target.writeDoubleLE(record.finishedAt, offset + 12);
  target.writeUInt32LE(crc32(target.subarray(offset, offset + 20)), offset + 20);
  return target;
}

export function encodePieceRecords(records: readonly PieceLogRecord[]): Buffer {
  const buffer = Buffer.allocUnsafe(records.length * PIECE_RECORD_SIZE);
  records.forEach((record, index) => encodePieceRecord(record, buffer, index * PIECE_RECORD_SIZE));
  return buffer;
}

export interface DecodedPieceLog {
  records: PieceLogRecord[];
  /** Whole records whose checksum failed. */
  corrupt: number;
  /** Bytes after the last whole record: a torn append. */
  tornBytes: number;
}

export function decodePieceLog(bytes: Uint8Array): DecodedPieceLog {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const whole = Math.floor(buffer.length / PIECE_RECORD_SIZE);
  const records: PieceLogRecord[] = [];
  let corrupt = 0;
  for (let index = 0; index < whole; index++) {
    const offset = index * PIECE_RECORD_SIZE;
    if (crc32(buffer.subarray(offset, offset + 20)) !== buffer.readUInt32LE(offset + 20)) {
      corrupt++;
      continue;
    }
    records.push({
      number: buffer.readUInt32LE(offset),
      length: buffer.readUInt32LE(offset + 4),
      crc: buffer.readUInt32LE(offset + 8),
      finishedAt: buffer.readDoubleLE(offset + 12),
    });
  }
  return { records, corrupt, tornBytes: buffer.length - whole * PIECE_RECORD_SIZE };
}

interface PendingAppend {
  record: PieceLogRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Appends records, batching those that arrive while a write is in flight into the next
 * single write: with several pieces landing at once, the log costs one system call per
 * batch rather than per piece. No fsync here: a record that a crash loses only means
 * the piece is fetched again, and incomplete tasks are re-verified on load anyway.
 */
export class PieceLogAppender {
  readonly #handle: () => Promise<FileHandle>;
  #pending: PendingAppend[] = [];
  #flushing = false;
  /** Bytes of whole records in the file, to cut a failed batch back off. */
  #size: number;
  #records: number;

  constructor(handle: () => Promise<FileHandle>, existingRecords: number) {
    this.#handle = handle;
    this.#records = existingRecords;
    this.#size = existingRecords * PIECE_RECORD_SIZE;
  }

  /** How many records the file holds, including those loaded at start. */
  get recordCount(): number {
    return this.#records;
  }

  append(record: PieceLogRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ record, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        const handle = await this.#handle();
        await this.#write(handle, encodePieceRecords(batch.map((entry) => entry.record)));
        this.#records += batch.length;
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.#flushing = false;
  }

  async #write(handle: FileHandle, bytes: Buffer): Promise<void> {
    let written = 0;
    try {
      while (written < bytes.length) {
        const result = await handle.write(bytes, written, bytes.length - written);
        written += result.bytesWritten;
      }
      this.#size += bytes.length;
    } catch (error) {
      // A partial batch (ENOSPC midway) would misalign every later record; cut it off.
      if (written > 0) await handle.truncate(this.#size).catch(() => {});
      throw error;
    }
  }
}
