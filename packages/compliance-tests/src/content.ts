/**
 * Deterministic test content that never has to exist whole in memory: any slice of a
 * seeded resource can be produced on its own, so an origin can serve 1 GiB and a test
 * can check any range of it chunk by chunk.
 *
 * Shape: a 1 MiB table of xorshift32 output per seed; the resource is a run of 4 KiB
 * blocks, each a copy of the table taken at an offset picked by hashing (seed, block
 * index). Producing bytes is then a memory copy (several GB/s), which keeps the origin
 * from being the bottleneck of a throughput benchmark, while a byte served from the
 * wrong offset still differs from the expected one with overwhelming probability.
 */

/** A resource of `size` bytes made by `generateContent(seed, …)`. */
export interface GeneratedContent {
  readonly size: number;
  readonly seed: number;
}

/** Content a test publishes: literal bytes, or a seeded resource of any size. */
export type ContentSpec = Uint8Array | GeneratedContent;

const TABLE_BYTES = 1 << 20;
const BLOCK_BYTES = 4096;
const MAX_CACHED_TABLES = 16;

const tables = new Map<number, Buffer>();

function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function seedWord(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`content seed must be a safe integer, got ${seed}`);
  return fmix32((seed >>> 0) ^ fmix32(Math.floor(seed / 2 ** 32) ^ 0x9e3779b9));
}

function tableFor(seed: number): Buffer {
  const cached = tables.get(seed);
  if (cached) return cached;
  // The extra block lets every block copy be one contiguous read, whatever its start.
  const table = Buffer.allocUnsafe(TABLE_BYTES + BLOCK_BYTES);
  let x = seedWord(seed) || 0x6d2b79f5;
  for (let i = 0; i < table.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    // Bytes written one by one so the table is the same on any host byte order.
    table[i] = x & 0xff;
    table[i + 1] = (x >>> 8) & 0xff;
    table[i + 2] = (x >>> 16) & 0xff;
    table[i + 3] = (x >>> 24) & 0xff;
  }
  if (tables.size >= MAX_CACHED_TABLES) tables.delete(tables.keys().next().value as number);
  tables.set(seed, table);
  return table;
}

function blockStart(seedHash: number, block: number): number {
  const low = block >>> 0;
  const high = Math.floor(block / 2 ** 32) >>> 0;
  return fmix32(seedHash ^ fmix32(low ^ Math.imul(high, 0x27d4eb2f))) & (TABLE_BYTES - 1);
}

function checkSlice(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`content offset must be >= 0, got ${offset}`);
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`content length must be >= 0, got ${length}`);
}

/** Writes the bytes at `offset` of the resource seeded `seed` into `target`, filling it. */
export function fillContent(seed: number, offset: number, target: Uint8Array): void {
  checkSlice(offset, target.length);
  const table = tableFor(seed);
  const seedHash = seedWord(seed);
  const out = Buffer.isBuffer(target) ? target : Buffer.from(target.buffer, target.byteOffset, target.byteLength);
  let written = 0;
  let position = offset;
  while (written < out.length) {
    const block = Math.floor(position / BLOCK_BYTES);
    const within = position - block * BLOCK_BYTES;
    const count = Math.min(BLOCK_BYTES - within, out.length - written);
    const from = blockStart(seedHash, block) + within;
    table.copy(out, written, from, from + count);
    written += count;
    position += count;
  }
}

/** The `length` bytes at `offset` of the resource seeded `seed`. */
export function generateContent(seed: number, offset: number, length: number): Uint8Array {
  checkSlice(offset, length);
  const out = Buffer.allocUnsafe(length);
  fillContent(seed, offset, out);
  return out;
}

/**
 * The bytes `[offset, offset + length)` of a resource, in fresh chunks of at most
 * `chunkBytes`: what an origin writes to a socket without ever holding the whole.
 */
export function* contentChunks(
  content: ContentSpec,
  offset: number,
  length: number,
  chunkBytes = 256 * 1024,
): Generator<Uint8Array> {
  checkSlice(offset, length);
  const end = offset + length;
  if (end > contentSize(content)) {
    throw new RangeError(`slice ${offset}+${length} is past the end of a ${contentSize(content)}-byte resource`);
  }
  for (let position = offset; position < end; position += chunkBytes) {
    const count = Math.min(chunkBytes, end - position);
    yield content instanceof Uint8Array
      ? content.subarray(position, position + count)
      : generateContent(content.seed, position, count);
  }
}

export function contentSize(content: ContentSpec): number {
  return content instanceof Uint8Array ? content.length : content.size;
}

/** The bytes `[offset, offset + length)` of a resource, in one array. Keep slices small. */
export function contentSlice(content: ContentSpec, offset: number, length: number): Uint8Array {
  checkSlice(offset, length);
  if (offset + length > contentSize(content)) {
    throw new RangeError(`slice ${offset}+${length} is past the end of a ${contentSize(content)}-byte resource`);
  }
  return content instanceof Uint8Array
    ? content.subarray(offset, offset + length)
    : generateContent(content.seed, offset, length);
}
