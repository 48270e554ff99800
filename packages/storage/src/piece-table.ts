import { PieceBitset, formatCrc32, pieceRange } from "@df/piece";

/** A finished piece as the store knows it. */
export interface Piece {
  number: number;
  offset: number;
  length: number;
  /** `crc32:<decimal>` of the piece's bytes, computed while they were written. */
  digest: string;
  /** When the piece was recorded, ms since the epoch. */
  finishedAt: number;
}

/**
 * The finished pieces of one task: a bitset plus each piece's CRC and time in typed
 * arrays, so that 10 000 loaded tasks cost a few small arrays each, not an object per
 * piece. Piece objects are made on demand.
 */
export class PieceTable {
  readonly contentLength: number;
  readonly pieceLength: number;
  readonly bitset: PieceBitset;
  readonly #crcs: Uint32Array;
  readonly #finishedAt: Float64Array;
  #bytes = 0;

  constructor(contentLength: number, pieceLength: number, pieceCount: number) {
    this.contentLength = contentLength;
    this.pieceLength = pieceLength;
    this.bitset = new PieceBitset(pieceCount);
    this.#crcs = new Uint32Array(pieceCount);
    this.#finishedAt = new Float64Array(pieceCount);
  }

  get pieceCount(): number {
    return this.bitset.pieceCount;
  }

  /** Bytes of content held by finished pieces. */
  get finishedBytes(): number {
    return this.#bytes;
  }

  /** Newest finish time of any piece, 0 if none. */
  get lastFinishedAt(): number {
    let newest = 0;
    for (const n of this.bitset.present()) newest = Math.max(newest, this.#finishedAt[n] ?? 0);
    return newest;
  }

  has(n: number): boolean {
    return this.bitset.has(n);
  }

  set(n: number, crc: number, finishedAt: number): void {
    if (this.bitset.set(n)) this.#bytes += this.lengthOf(n);
    this.#crcs[n] = crc;
    this.#finishedAt[n] = finishedAt;
  }

  delete(n: number): void {
    if (this.bitset.delete(n)) this.#bytes -= this.lengthOf(n);
  }

  crcOf(n: number): number {
    return this.#crcs[n] ?? 0;
  }

  get(n: number): Piece | undefined {
    if (!this.bitset.has(n)) return undefined;
    const range = pieceRange(n, this.contentLength, this.pieceLength);
    return { ...range, digest: formatCrc32(this.#crcs[n] ?? 0), finishedAt: this.#finishedAt[n] ?? 0 };
  }

  lengthOf(n: number): number {
    return Math.min(this.pieceLength, this.contentLength - n * this.pieceLength);
  }

  /** `[crc, finishedAt]` by piece number, for the record of a complete task. */
  toRecordPieces(): Array<[number, number]> {
    return Array.from({ length: this.pieceCount }, (_, n) => [this.#crcs[n] ?? 0, this.#finishedAt[n] ?? 0]);
  }
}
