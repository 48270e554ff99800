// The storage walk-through: what a dfdaemon does with a file's bytes, step by step, on
// this machine. Import a file into a df store piece by piece (each piece written at its
// offset with its CRC-32), lose the process state as a crash would, reopen the store,
// stream the task back, export it by hard link, and check every byte.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { crc32Digest, pieceCount, pieceLengthFor, pieceRange, taskId } from "@df/piece";
import { Storage } from "@df/storage";

const SIZE = Number(process.env.DF_QUICKSTART_MIB ?? 256) * 2 ** 20;
const dir = await mkdtemp(join(tmpdir(), "df-quickstart-"));
const mb = (bytes, ms) => `${((bytes / 1e6) / (ms / 1000)).toFixed(0)} MB/s`;
const step = (text) => console.log(`\n▸ ${text}`);

try {
  step(`Writing a ${SIZE / 2 ** 20} MiB sample file`);
  const source = join(dir, "sample.bin");
  const hash = createHash("sha256");
  await pipeline(
    async function* () {
      for (let done = 0; done < SIZE; done += 2 ** 20) {
        const chunk = randomBytes(Math.min(2 ** 20, SIZE - done));
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(source),
  );
  const expected = hash.digest("hex");
  console.log(`  sha256 ${expected}`);

  const id = taskId({ url: "https://example.com/sample.bin" });
  const pieceLength = pieceLengthFor(SIZE);
  const count = pieceCount(SIZE, pieceLength);
  step(`Importing it as task ${id.slice(0, 16)}… (${count} pieces of ${pieceLength / 2 ** 20} MiB)`);
  let storage = await Storage.open({ dir: join(dir, "store") });
  const task = await storage.createTask({ taskId: id, contentLength: SIZE, pieceLength, url: "https://example.com/sample.bin" });
  const file = await open(source);
  const half = Math.ceil(count / 2);
  let started = performance.now();
  for (let n = 0; n < half; n++) {
    const { offset, length } = pieceRange(n, SIZE, pieceLength);
    const { buffer } = await file.read({ buffer: Buffer.allocUnsafe(length), position: offset });
    await task.writePiece(n, buffer, { digest: crc32Digest(buffer) });
  }
  console.log(`  ${half} of ${count} pieces stored, then the process "crashes" (the store is dropped, not closed)`);

  step("Reopening the store, as a restarted daemon would");
  storage = await Storage.open({ dir: join(dir, "store") });
  const resumed = storage.getTask(id);
  if (!resumed) throw new Error("the task did not survive the restart");
  console.log(`  the task is back with ${resumed.finishedPieces.size} pieces; fetching only the ${count - resumed.finishedPieces.size} missing ones`);
  for (const n of [...resumed.finishedPieces.missing()]) {
    const { offset, length } = pieceRange(n, SIZE, pieceLength);
    const { buffer } = await file.read({ buffer: Buffer.allocUnsafe(length), position: offset });
    await resumed.writePiece(n, buffer, { digest: crc32Digest(buffer) });
  }
  await file.close();
  await resumed.markComplete();
  console.log(`  complete; write + digest ran at ${mb(SIZE, performance.now() - started)} (this includes reading the sample file)`);

  step("Refusing a piece whose bytes do not match its digest");
  try {
    const wrong = Buffer.alloc(pieceRange(0, SIZE, pieceLength).length, 1);
    const probe = await storage.createTask({ taskId: "f".repeat(64), contentLength: wrong.length, pieceLength });
    await probe.writePiece(0, wrong, { digest: "crc32:12345" });
    throw new Error("a corrupt piece was accepted");
  } catch (error) {
    console.log(`  refused: ${error.message}`);
  }

  step("Streaming the task back out of the store");
  started = performance.now();
  const readHash = createHash("sha256");
  for await (const chunk of resumed.read()) readHash.update(chunk);
  const readDigest = readHash.digest("hex");
  console.log(`  ${mb(SIZE, performance.now() - started)}, sha256 ${readDigest === expected ? "matches" : "DIFFERS"}`);

  step("Exporting it (hard link on the same filesystem, else copy)");
  const output = join(dir, "exported.bin");
  const result = await storage.exportTask(id, output);
  const exportHash = createHash("sha256");
  await pipeline(createReadStream(output), async (chunks) => {
    for await (const chunk of chunks) exportHash.update(chunk);
  });
  const exported = exportHash.digest("hex");
  console.log(`  ${output} by ${result.method}, ${(await stat(output)).size} bytes, sha256 ${exported === expected ? "matches" : "DIFFERS"}`);
  await storage.close();
  if (readDigest !== expected || exported !== expected) {
    console.error("\nquickstart FAILED: bytes differ");
    process.exitCode = 1;
  } else {
    console.log("\nquickstart OK: every byte came back as it went in.");
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
