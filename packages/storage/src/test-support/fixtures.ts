import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";
import { Storage, type StorageOptions } from "../index.js";

/** A fresh folder under the OS temp dir, removed when the test ends. */
export async function tempDir(prefix = "df-storage-"): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A fresh folder on the disk that holds this repository (under the package's
 * node_modules/.cache), removed when the test ends: for tests of direct I/O, which the
 * OS temp dir may not take (tmpfs before Linux 6.6 refuses it, later ones ignore it).
 */
export async function diskTempDir(prefix = "df-storage-"): Promise<string> {
  const base = fileURLToPath(new URL("../../node_modules/.cache/df-tests/", import.meta.url));
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(path.join(base, prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Opens a store that the test closes at the end (unless the test already did, or
 * dropped it to simulate a crash: closing twice is harmless). GC's timer is off so no
 * test sees an eviction it did not ask for.
 */
export async function openStorage(options: Partial<StorageOptions> & { dir: string }): Promise<Storage> {
  const storage = await Storage.open({ ...options, gc: { intervalMs: 0, ...options.gc } });
  onTestFinished(() => storage.close());
  return storage;
}

/** Deterministic, non-repeating-looking bytes, different per seed. */
export function bytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/** 64 hex digits, like a Dragonfly task ID. */
export function taskIdOf(n: number): string {
  return n.toString(16).padStart(8, "0").repeat(8);
}

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** Yields `data` in chunks of `size`, asynchronously, like a socket would. */
export async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.byteLength; offset += size) {
    await Promise.resolve();
    yield data.subarray(offset, Math.min(offset + size, data.byteLength));
  }
}

/** A piece source the test feeds by hand: chunks as it pushes them, then the end or a failure. */
export function handFed(): { source: AsyncIterable<Uint8Array>; push(chunk: Uint8Array): void; end(): void; fail(error: Error): void } {
  const queue: Array<{ chunk?: Uint8Array; error?: Error; end?: true }> = [];
  let wake: (() => void) | undefined;
  const add = (item: { chunk?: Uint8Array; error?: Error; end?: true }): void => {
    queue.push(item);
    wake?.();
  };
  async function* source(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = queue.shift();
      if (!next) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      if (next.error) throw next.error;
      if (next.end) return;
      yield next.chunk as Uint8Array;
    }
  }
  return { source: source(), push: (chunk) => add({ chunk }), end: () => add({ end: true }), fail: (error) => add({ error }) };
}
