// Benchmark of the piece-byte transports, parent → child on loopback.
//
//   pnpm -F @df/daemon exec tsc -b && node packages/daemon/bench/transfer.mjs
//   node packages/daemon/bench/transfer.mjs --size 256 --runs 1           # quick look
//   node packages/daemon/bench/transfer.mjs --dir /var/tmp                 # stores on disk
//   node packages/daemon/bench/transfer.mjs --transports http,curl --concurrency 8
//   … --piece 16 (MiB per piece)  --chunk 1024 (KiB per read/write on the byte server)
//   … --window 1024 (KiB per storage write in the child)
//
// A parent process holds one task (default 1 GiB, 4 MiB pieces) in a Storage and
// serves it with the daemon's upload service: SyncPieces and DownloadPiece over gRPC,
// and the HTTP piece-byte server. The same process serves the task's bytes as a plain
// file from a minimal node:http static server. This process is the child: for each
// candidate it opens a fresh Storage and pulls every piece (concurrency 8, each piece's
// CRC-32 checked by the store, bytes written to the store's file):
//   http    PeerPieceDownloader over the HTTP byte server (the daemon's default client:
//           kept-alive connections, body read by the kernel straight into reused buffers)
//   undici  the same server read with a stock undici Pool, bodies streamed into storage
//   grpc    PeerPieceDownloader with transport "grpc" (DownloadPiece, one message a piece)
//   bytes   (only when listed) the daemon's HTTP client with the bytes dropped instead of
//           stored: the transport alone, without the store's CRC-32 and file writes
//   curl    the baseline: `curl -o file` of the same bytes from the static server (a node
//           fetch into a file if curl is absent)
// Parent and child are separate processes, as two daemons would be.
//
// Stores and the baseline's file live in /dev/shm when it exists (tmpfs: the transport
// and the store are measured, not this machine's disk writeback), else the OS temp dir;
// --dir picks another place. `sync` runs before every measured pull. It imports the
// built dist (as the daemon runs). Results are medians over the runs, in MB/s (10^6
// bytes per second). The target: ≥ 500 MB/s and ≥ 0.8× curl. A missed target
// is printed as MISS; the exit code is non-zero only when something broke.

import { spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { crc32Digest } from "@df/piece";
import { createRpcServer, daemonUpload } from "@df/rpc";
import { Storage } from "@df/storage";
import { ChunkBuffers, fetchPieceHttp } from "../dist/transfer/fetch-piece.js";
import { BytePool } from "../dist/transfer/http/byte-pool.js";
import { PeerClientPool, PeerPieceDownloader } from "../dist/transfer/index.js";
import { PieceByteServer, UploadLimiter, createUploadHandlers } from "../dist/upload/index.js";

const MiB = 1024 * 1024;
const argv = process.argv.slice(2);
const { values: flags } = parseArgs({
  args: argv[0] === "--" ? argv.slice(1) : argv,
  options: {
    size: { type: "string" },
    piece: { type: "string" },
    runs: { type: "string" },
    concurrency: { type: "string" },
    transports: { type: "string" },
    dir: { type: "string" },
    serve: { type: "string" },
    chunk: { type: "string" },
    window: { type: "string" },
  },
});

if (flags.serve !== undefined) await serve(flags.serve);
else await main();

/** The parent: a store holding one task, the upload service, the byte server, a static file server. */
async function serve(dir) {
  const sizeMiB = Number(flags.size ?? 1024);
  const pieceLength = Number(flags.piece ?? 4) * MiB;
  const contentLength = sizeMiB * MiB;
  const taskId = "b".repeat(64);
  const storage = await Storage.open({ dir: path.join(dir, "parent"), gc: { intervalMs: 0 } });
  const task = await storage.createTask({ taskId, contentLength, pieceLength });
  const file = path.join(dir, "content.bin");
  const handle = await open(file, "w");
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(pieceLength);
  const digests = [];
  for (let n = 0; n * pieceLength < contentLength; n++) {
    const piece = buffer.subarray(0, Math.min(pieceLength, contentLength - n * pieceLength));
    randomFillSync(piece);
    hash.update(piece);
    digests.push(crc32Digest(piece));
    await task.writePiece(n, piece, { digest: digests[n] });
    await handle.write(piece, 0, piece.length, n * pieceLength);
  }
  await handle.close();
  await task.markComplete();

  const limiter = new UploadLimiter({ concurrency: 200 });
  const chunkSize = flags.chunk ? Number(flags.chunk) * 1024 : undefined;
  const bytes = new PieceByteServer({ storage, limiter, listen: "127.0.0.1:0", ...(chunkSize ? { chunkSize } : {}) });
  const host = { id: "127.0.0.1-bench-parent", ip: "127.0.0.1", downloadPort: await bytes.start() };
  const grpc = createRpcServer({ address: "127.0.0.1:0" });
  grpc.addService(daemonUpload.DfdaemonUploadService, createUploadHandlers({ storage, host, limiter, peerIdOf: () => "bench-parent-peer" }));
  const grpcAddress = await grpc.start();

  // The baseline's server: the file as one response, streamed from disk, nothing else.
  const staticServer = createServer((request, response) => {
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(contentLength) });
    createReadStream(file, { highWaterMark: MiB }).pipe(response);
  });
  await new Promise((resolve) => staticServer.listen(0, "127.0.0.1", resolve));

  process.stdout.write(
    `${JSON.stringify({
      taskId,
      contentLength,
      pieceLength,
      sha256: hash.digest("hex"),
      digests,
      grpcPort: grpcAddress.port,
      bytePort: host.downloadPort,
      staticPort: staticServer.address().port,
    })}\n`,
  );
  // Stops when the child closes stdin (or dies).
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once("end", resolve));
  staticServer.closeAllConnections();
  await Promise.all([grpc.stop({ graceMs: 0 }), bytes.stop(), new Promise((resolve) => staticServer.close(resolve))]);
  await storage.close();
}

async function main() {
  const runs = Number(flags.runs ?? 3);
  const concurrency = Number(flags.concurrency ?? 8);
  const transports = (flags.transports ?? "http,undici,grpc,curl").split(",");
  const dir = await mkdtemp(path.join(flags.dir ?? (existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir()), "df-bench-transfer-"));
  const curl = await hasCurl();
  const parent = spawn(process.execPath, [new URL(import.meta.url).pathname, "--serve", dir, "--size", flags.size ?? "1024", "--piece", flags.piece ?? "4", ...(flags.chunk ? ["--chunk", flags.chunk] : [])], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let failed = false;
  try {
    const setup = JSON.parse(await firstLine(parent.stdout));
    const mb = setup.contentLength / 1e6;
    console.log(
      `transfer bench: ${setup.contentLength / MiB} MiB task, ${setup.pieceLength / MiB} MiB pieces, concurrency ${concurrency}, ${runs} run(s), ` +
        `node ${process.version}, ${os.cpus().length} cores, data in ${dir}`,
    );
    // A daemon is long-running: warm both processes' code paths up before timing.
    for (const name of transports.filter((name) => name === "http" || name === "grpc")) {
      await pull(setup, dir, name, concurrency, false, 16);
    }
    const results = Object.fromEntries(transports.map((name) => [name, []]));
    for (let run = 0; run < runs; run++) {
      for (const name of transports) {
        const verify = run === 0;
        await settleDisk();
        const seconds =
          name === "curl"
            ? await baseline(setup, dir, curl, verify)
            : name === "undici"
              ? await pullUndici(setup, dir, concurrency, verify)
              : name === "bytes"
                ? await pullBytes(setup, concurrency)
                : await pull(setup, dir, name, concurrency, verify);
        results[name].push(mb / seconds);
        console.log(`  run ${run + 1} ${name.padEnd(5)} ${(mb / seconds).toFixed(0).padStart(6)} MB/s  (${seconds.toFixed(2)} s)`);
      }
    }
    console.log("");
    const medians = Object.fromEntries(Object.entries(results).map(([name, values]) => [name, median(values)]));
    const reference = medians.curl;
    for (const [name, value] of Object.entries(medians)) {
      const ratio = reference && name !== "curl" ? `  ${(value / reference).toFixed(2)}× ${curl ? "curl" : "node fetch"}` : "";
      const target = name === "curl" ? "" : name === "bytes" ? "  (transport only, bytes not stored)" : value >= 500 && (!reference || value >= 0.8 * reference) ? "  ok" : "  MISS (target ≥ 500 MB/s and ≥ 0.8× baseline)";
      console.log(`  median ${name.padEnd(5)} ${value.toFixed(0).padStart(6)} MB/s${ratio}${target}`);
    }
  } catch (error) {
    failed = true;
    console.error(error);
  } finally {
    parent.stdin.end();
    await new Promise((resolve) => parent.once("exit", resolve));
    await rm(dir, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

/** Pulls every piece (or the first `only`) into a fresh store with the daemon's downloader; returns seconds. */
async function pull(setup, dir, transport, concurrency, verify, only) {
  const storeDir = path.join(dir, `child-${transport}`);
  const storage = await Storage.open({ dir: storeDir, gc: { intervalMs: 0 } });
  const pool = new PeerClientPool();
  try {
    const task = await storage.createTask({ taskId: setup.taskId, contentLength: setup.contentLength, pieceLength: setup.pieceLength });
    const downloader = new PeerPieceDownloader({
      pool,
      concurrency,
      transport: transport === "grpc" ? "grpc" : "auto",
      ...(flags.window ? { chunkBytes: Number(flags.window) * 1024 } : {}),
    });
    const parent = { peerId: "bench-parent-peer", hostId: "127.0.0.1-bench-parent", ip: "127.0.0.1", port: setup.grpcPort, downloadPort: setup.bytePort };
    const failures = [];
    const started = performance.now();
    const outcome = await downloader.download({
      task,
      hostId: "127.0.0.1-bench-child",
      peerId: "bench-child-peer",
      parents: [parent],
      events: { pieceFinished: () => {}, pieceFailed: (number, _parent, error) => failures.push(`${number}: ${error.message}`) },
      ...(only ? { pieces: Array.from({ length: only }, (_, n) => n) } : {}),
    });
    const seconds = (performance.now() - started) / 1000;
    if (outcome.kind !== "complete") throw new Error(`${transport}: ${JSON.stringify(outcome)}; failures: ${failures.join("; ")}`);
    if (verify) {
      const hash = createHash("sha256");
      for await (const chunk of task.read()) hash.update(chunk);
      if (hash.digest("hex") !== setup.sha256) throw new Error(`${transport}: the pulled content differs from the parent's`);
    }
    return seconds;
  } finally {
    await pool.close();
    await storage.close();
    await rm(storeDir, { recursive: true, force: true });
  }
}

/**
 * The candidate the daemon does not ship: the same HTTP byte server read with a stock
 * undici Pool (keep-alive, no pipelining), bodies streamed into storage in 4 MiB
 * chunks (gathered from undici's socket chunks). Same storage writes and digest checks
 * as `pull`, minus the downloader's scheduling.
 */
async function pullUndici(setup, dir, concurrency, verify) {
  const storeDir = path.join(dir, "child-undici");
  const storage = await Storage.open({ dir: storeDir, gc: { intervalMs: 0 } });
  const pool = new Pool(`http://127.0.0.1:${setup.bytePort}`, { connections: concurrency, pipelining: 1 });
  try {
    const task = await storage.createTask({ taskId: setup.taskId, contentLength: setup.contentLength, pieceLength: setup.pieceLength });
    const count = Math.ceil(setup.contentLength / setup.pieceLength);
    let next = 0;
    const worker = async () => {
      const buffer = Buffer.allocUnsafe(Math.min(4 * MiB, setup.pieceLength));
      for (let n = next++; n < count; n = next++) {
        const { statusCode, headers, body } = await pool.request({ path: `/pieces/${setup.taskId}/${n}`, method: "GET" });
        if (statusCode !== 200) throw new Error(`undici: piece ${n} answered ${statusCode}`);
        await task.writePiece(n, gather(body, buffer), { digest: headers["x-df-digest"] });
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    if (verify) {
      const hash = createHash("sha256");
      for await (const chunk of task.read()) hash.update(chunk);
      if (hash.digest("hex") !== setup.sha256) throw new Error("undici: the pulled content differs from the parent's");
    }
    return seconds;
  } finally {
    await pool.close();
    await storage.close();
    await rm(storeDir, { recursive: true, force: true });
  }
}

async function* gather(source, buffer) {
  let held = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(buffer.length - held, chunk.length - offset);
      chunk.copy(buffer, held, offset, offset + n);
      held += n;
      offset += n;
      if (held === buffer.length) {
        yield buffer;
        held = 0;
      }
    }
  }
  if (held > 0) yield buffer.subarray(0, held);
}

/** The daemon's HTTP piece client reading every piece and dropping the bytes. */
async function pullBytes(setup, concurrency) {
  const pool = new BytePool("127.0.0.1", setup.bytePort, { maxConnections: concurrency });
  const buffers = new ChunkBuffers(undefined, concurrency);
  const count = Math.ceil(setup.contentLength / setup.pieceLength);
  let next = 0;
  const worker = async () => {
    for (let n = next++; n < count; n = next++) {
      const length = Math.min(setup.pieceLength, setup.contentLength - n * setup.pieceLength);
      const piece = await fetchPieceHttp(pool, { taskId: setup.taskId, number: n, length, digest: setup.digests[n], hostId: "bench" }, globalThis.AbortSignal.timeout(60_000), buffers);
      for await (const _chunk of piece.source) void _chunk;
    }
  };
  try {
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return (performance.now() - started) / 1000;
  } finally {
    pool.close();
  }
}

/** curl (or node fetch) of the same bytes from the static server into a file; returns seconds. */
async function baseline(setup, dir, curl, verify) {
  const out = path.join(dir, "curl.out");
  const url = `http://127.0.0.1:${setup.staticPort}/content.bin`;
  const started = performance.now();
  if (curl) {
    await new Promise((resolve, reject) => {
      const child = spawn("curl", ["-sS", "--fail", "-o", out, url], { stdio: "inherit" });
      child.once("error", reject);
      child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`curl exited with ${code}`))));
    });
  } else {
    const response = await globalThis.fetch(url);
    await pipeline(Readable.fromWeb(response.body), createWriteStream(out));
  }
  const seconds = (performance.now() - started) / 1000;
  if ((await stat(out)).size !== setup.contentLength) throw new Error("the baseline download is short");
  if (verify) {
    const hash = createHash("sha256");
    await pipeline(createReadStream(out), hash);
    if (hash.digest("hex") !== setup.sha256) throw new Error("the baseline download differs");
  }
  await rm(out, { force: true });
  return seconds;
}

/** Flushes dirty pages left by the previous run, so each run starts from the same state. */
function settleDisk() {
  return new Promise((resolve) => {
    const child = spawn("sync", [], { stdio: "ignore" });
    child.once("error", () => resolve());
    child.once("exit", () => resolve());
  });
}

function hasCurl() {
  return new Promise((resolve) => {
    const child = spawn("curl", ["--version"], { stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
}

async function firstLine(stream) {
  const lines = createInterface({ input: stream });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new Error("the parent process ended before it was ready");
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
