import { constants } from "node:fs";

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
let wasmMissing = WasmMemory === undefined;

/**
 * A buffer whose memory starts on a page boundary, so that storage can hand it to the
 * kernel with direct I/O (see {@link Storage} `directIO`). JavaScript cannot ask for an
 * address, but a WebAssembly.Memory is always page-aligned; buffers are carved from
 * such slabs. Where WebAssembly is off (`--jitless`) this is a plain buffer, which
 * storage then writes through the page cache: slower on some hosts, never wrong.
 */
export function allocateAligned(size: number): Buffer {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`an aligned buffer needs a positive size, got ${String(size)}`);
  const rounded = Math.ceil(size / DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT;
  if (wasmMissing) return Buffer.allocUnsafeSlow(size);
  if (!slab || slab.buffer.byteLength - slab.used < rounded) {
    const bytes = Math.max(SLAB_BYTES, rounded);
    let memory: { readonly buffer: ArrayBuffer };
    try {
      memory = new (WasmMemory as WasmMemoryConstructor)({ initial: Math.ceil(bytes / WASM_PAGE_BYTES) });
    } catch {
      // Out of address space for another reservation: fall back for good.
      wasmMissing = true;
      return Buffer.allocUnsafeSlow(size);
    }
    slab = { buffer: memory.buffer, used: 0 };
    alignedBackings.add(memory.buffer);
  }
  const view = Buffer.from(slab.buffer, slab.used, size);
  slab.used += rounded;
  return view;
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
    chunk.byteOffset % DIRECT_IO_ALIGNMENT === 0 &&
    alignedBackings.has(chunk.buffer)
  );
}

/**
 * The store-wide direct I/O switch: on when asked for and the platform has O_DIRECT;
 * turned off for good by the first file system that refuses it (tmpfs before Linux 6.6,
 * some FUSE mounts), so every later write goes through the page cache at once.
 */
export class DirectIoSwitch {
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
