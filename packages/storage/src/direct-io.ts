import { constants } from "node:fs";
import { open, rm } from "node:fs/promises";
import path from "node:path";
import { errorMessage } from "@df/interface";

/**
 * Direct I/O (O_DIRECT) takes a write only when the memory address, the file offset and
 * the length are all multiples of the device's logical block size; 4096 covers every
 * common device (this project's VM needs 512).
 */
export const DIRECT_IO_ALIGNMENT = 4096;

/** `open` flag for direct I/O; undefined where the platform has none (macOS, Windows). */
export const O_DIRECT: number | undefined = (constants as { O_DIRECT?: number }).O_DIRECT;

const WASM_PAGE_BYTES = 65536;
/**
 * Aligned memory is carved from slabs of this size: eight 1 MiB chunks, one per piece in
 * flight by default. Each slab is one WebAssembly.Memory, which V8 backs with whole
 * pages of its own (with a large virtual reservation), so slabs stay few and small.
 */
const SLAB_BYTES = 8 * 1024 * 1024;

/** The backing stores of memory from {@link allocateAligned}: page-aligned at offset 0. */
const alignedBackings = new WeakSet<ArrayBufferLike>();
let slab: { buffer: ArrayBuffer; used: number } | undefined;
/** The one WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmMemoryConstructor {
  new (descriptor: { initial: number }): { readonly buffer: ArrayBuffer };
}
const WasmMemory = (globalThis as { WebAssembly?: { Memory: WasmMemoryConstructor } }).WebAssembly?.Memory;

const roundUp = (size: number): number => Math.ceil(size / DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT;

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`an aligned buffer needs a positive size, got ${String(size)}`);
}

/**
 * A fresh page-aligned backing store of at least `bytes`, or undefined where none can be
 * had: WebAssembly off (`--jitless`), or no address space left for another reservation
 * (V8 reserves ~10 GiB of address space per memory; `ulimit -v` can refuse it). Only
 * this call falls back; the next one tries again.
 */
function alignedMemory(bytes: number): ArrayBuffer | undefined {
  if (WasmMemory === undefined) return undefined;
  try {
    const { buffer } = new WasmMemory({ initial: Math.ceil(bytes / WASM_PAGE_BYTES) });
    alignedBackings.add(buffer);
    return buffer;
  } catch {
    return undefined;
  }
}

/**
 * A buffer whose memory starts on a page boundary, so that storage can hand it to the
 * kernel with direct I/O (see {@link Storage} `directIO`). JavaScript cannot ask for an
 * address, but a WebAssembly.Memory is always page-aligned; buffers are carved from
 * shared slabs. Where no such memory can be had this is a plain buffer (see
 * {@link isAligned}), which storage writes through the page cache: slower on some
 * hosts, never wrong. For buffers kept for the life of a component, prefer
 * {@link allocateAlignedSet}: a carved buffer keeps its whole slab alive.
 */
export function allocateAligned(size: number): Buffer {
  checkSize(size);
  const rounded = roundUp(size);
  if (!slab || slab.buffer.byteLength - slab.used < rounded) {
    const buffer = alignedMemory(Math.max(SLAB_BYTES, rounded));
    if (!buffer) return Buffer.allocUnsafeSlow(size);
    slab = { buffer, used: 0 };
  }
  const view = Buffer.from(slab.buffer, slab.used, size);
  slab.used += rounded;
  return view;
}

/** `count` page-aligned buffers of `size` in one memory of their own, freed together. */
export function allocateAlignedSet(size: number, count: number): Buffer[] {
  checkSize(size);
  checkSize(count);
  const rounded = roundUp(size);
  const buffer = alignedMemory(rounded * count);
  return Array.from({ length: count }, (_, i) => (buffer ? Buffer.from(buffer, i * rounded, size) : Buffer.allocUnsafeSlow(size)));
}

/** Whether `buffer` is page-aligned memory from this module (else direct I/O cannot take it). */
export function isAligned(buffer: Uint8Array): boolean {
  return buffer.byteOffset % DIRECT_IO_ALIGNMENT === 0 && alignedBackings.has(buffer.buffer);
}

/** @internal Tests only: lets plain memory pass as aligned, to get a real EINVAL out of a direct write. */
export function trustAsAligned(buffer: ArrayBufferLike): void {
  alignedBackings.add(buffer);
}

/** Whether `chunk` may be written at `position` with direct I/O as it is. */
export function directWritable(chunk: Uint8Array, position: number): boolean {
  return (
    chunk.byteLength > 0 &&
    chunk.byteLength % DIRECT_IO_ALIGNMENT === 0 &&
    position % DIRECT_IO_ALIGNMENT === 0 &&
    isAligned(chunk)
  );
}

/**
 * The store-wide direct I/O switch: on when asked for, the platform has O_DIRECT and the
 * store's file system took a probe write at open (see {@link probeDirectIO}); turned off
 * for good by any later refusal, so every later write goes through the page cache.
 */
export class DirectIOSwitch {
  /** Piece bytes written with direct I/O, and through the page cache, since the store opened. */
  readonly written = { direct: 0, cached: 0 };
  #enabled: boolean;
  #reason: string | undefined;

  constructor(requested: boolean) {
    this.#enabled = requested && O_DIRECT !== undefined;
    if (requested && O_DIRECT === undefined) this.#reason = "this platform has no O_DIRECT";
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Why direct I/O is off although it was asked for; undefined when it is on or was not asked for. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Turns direct I/O off; true only for the call that did it (so the caller logs once). */
  disable(reason: string): boolean {
    if (!this.#enabled) return false;
    this.#enabled = false;
    this.#reason = reason;
    return true;
  }
}

/**
 * Whether the file system under `dir` takes an aligned O_DIRECT write: tried on a scratch
 * file that is removed again. Undefined when it does; otherwise why not, e.g. EINVAL from
 * tmpfs before Linux 6.6, some FUSE mounts, or a device with blocks over 4 KiB.
 */
export async function probeDirectIO(dir: string): Promise<string | undefined> {
  if (O_DIRECT === undefined) return "this platform has no O_DIRECT";
  const block = allocateAligned(DIRECT_IO_ALIGNMENT);
  if (!isAligned(block)) return "no page-aligned memory could be had (WebAssembly off, or no address space left)";
  const file = path.join(dir, `.direct-io-probe-${process.pid}`);
  try {
    const handle = await open(file, O_DIRECT | constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
    try {
      await handle.write(block, 0, block.byteLength, 0);
    } finally {
      await handle.close();
    }
    return undefined;
  } catch (error) {
    return `the file system (or its device) refused a direct write: ${errorMessage(error)}`;
  } finally {
    await rm(file, { force: true });
  }
}
