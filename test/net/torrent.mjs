// Makes a single-file .torrent (BitTorrent v1 metainfo): bencode and SHA-1 piece
// hashes, nothing else. Our own few lines rather than mktorrent, so the testbed needs no
// tool that Debian does not ship with aria2 and opentracker.
//
//   node test/net/torrent.mjs <file> <announce-url> <out.torrent>   # prints the info hash
import { createHash } from "node:crypto";
import { open, stat, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 2 ** 20;

/**
 * The piece length mktorrent 1.1 picks when given none: 2^15 bytes up to 50 MiB, one
 * more bit for each doubling of the size (2^16 to 100 MiB, 2^17 to 200, 2^18 to 400, …),
 * at most 2^24. So 32 MiB → 32 KiB, 64 MiB → 64 KiB, 256 MiB → 256 KiB pieces, what a
 * torrent of that size made by the common tool would carry.
 */
export function mktorrentPieceLength(size) {
  let bits = 15;
  let max = 50 * MiB;
  while (size > max && bits < 24) {
    bits += 1;
    max *= 2;
  }
  return 2 ** bits;
}

/** Bencodes numbers (integers), strings, Buffers, arrays and plain objects (keys sorted as the spec requires). */
export function bencode(value) {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(`bencode: not an integer: ${value}`);
    return Buffer.from(`i${value}e`);
  }
  if (typeof value === "string") value = Buffer.from(value, "utf8");
  if (Buffer.isBuffer(value)) return Buffer.concat([Buffer.from(`${value.length}:`), value]);
  if (Array.isArray(value)) return Buffer.concat([Buffer.from("l"), ...value.map(bencode), Buffer.from("e")]);
  if (value && typeof value === "object") {
    // Keys are byte strings sorted as raw bytes; ours are ASCII, so a plain sort is that order.
    const keys = Object.keys(value).sort();
    return Buffer.concat([Buffer.from("d"), ...keys.flatMap((k) => [bencode(k), bencode(value[k])]), Buffer.from("e")]);
  }
  throw new TypeError(`bencode: cannot encode ${typeof value}`);
}

/**
 * Hashes `path` piece by piece and writes the metainfo to `out`. Returns the info hash
 * (hex, what opentracker's whitelist and aria2's logs name the torrent by) and the
 * piece length used.
 */
export async function makeTorrent(path, announce, out, { pieceLength, name = basename(path) } = {}) {
  const { size } = await stat(path);
  pieceLength ??= mktorrentPieceLength(size);
  const hashes = [];
  const file = await open(path, "r");
  try {
    // Read several pieces per call: 256 KiB reads would make hashing 256 MiB syscall-bound.
    const batch = Buffer.allocUnsafe(pieceLength * Math.max(1, Math.floor((8 * MiB) / pieceLength)));
    for (let offset = 0; offset < size; ) {
      const { bytesRead } = await file.read(batch, 0, Math.min(batch.length, size - offset), offset);
      if (bytesRead === 0) throw new Error(`${path} shrank while hashing`);
      for (let at = 0; at < bytesRead; at += pieceLength) {
        hashes.push(createHash("sha1").update(batch.subarray(at, Math.min(at + pieceLength, bytesRead))).digest());
      }
      offset += bytesRead;
    }
  } finally {
    await file.close();
  }
  const info = { length: size, name, "piece length": pieceLength, pieces: Buffer.concat(hashes) };
  const metainfo = { announce, "created by": "df test/net/torrent.mjs", "creation date": Math.floor(Date.now() / 1000), info };
  await writeFile(out, bencode(metainfo));
  return { infoHash: createHash("sha1").update(bencode(info)).digest("hex"), pieceLength, pieces: hashes.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [path, announce, out] = process.argv.slice(2);
  if (!path || !announce || !out) {
    console.error("usage: node test/net/torrent.mjs <file> <announce-url> <out.torrent>");
    process.exit(2);
  }
  const { infoHash, pieceLength, pieces } = await makeTorrent(path, announce, out);
  console.log(`${infoHash} (${pieces} pieces of ${pieceLength} bytes)`);
}
