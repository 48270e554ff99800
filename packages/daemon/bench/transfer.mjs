// Benchmark of the piece-byte transports, parent → child on loopback.
//
//   pnpm -F @df/daemon exec tsc -b && node packages/daemon/bench/transfer.mjs
//   node packages/daemon/bench/transfer.mjs --size 256 --runs 1          # quick look
//   node packages/daemon/bench/transfer.mjs --transports http,curl --concurrency 8
//
// A parent process holds one task (default 1 GiB, 4 MiB pieces) in a Storage and
// serves it with the daemon's upload service: SyncPieces and DownloadPiece over gRPC,
// and the HTTP piece-byte server. The same process also serves the task's bytes as a
// plain file from a minimal node:http static server. This process is the child: for
// each transport it opens a fresh Storage and pulls every piece with PeerPieceDownloader
// (same concurrency, digest checked, bytes on disk), and for the baseline it runs
// `curl -o file` against the static server (a node fetch into a file if curl is
// absent). Parent and child are separate processes, as two daemons would be.
//
// It imports the built dist (as the daemon runs). Results are medians over the runs, in
// MB/s (10^6 bytes per second). The target: ≥ 500 MB/s and ≥ 0.8× curl. A
// missed target is printed as MISS; the exit code is non-zero only when something broke.

import { spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
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
import { crc32Digest } from "@df/piece";
import { createRpcServer, daemonUpload } from "@df/rpc";
import { Storage } from "@df/storage";
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
  for (let n = 0; n * pieceLength < contentLength; n++) {
    const piece = buffer.subarray(0, Math.min(pieceLength, contentLength - n * pieceLength));
    randomFillSync(piece);
    hash.update(piece);
    await task.writePiece(n, piece, { digest: crc32Digest(piece) });
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
  const transports = (flags.transports ?? "http,grpc,curl").split(",");
  const dir = await mkdtemp(path.join(flags.dir ?? os.tmpdir(), "df-bench-transfer-"));
  const curl = await hasCurl();
  const parent = spawn(process.execPath, [new URL(import.meta.url).pathname, "--serve", dir, "--size", flags.size ?? "1024", "--piece", flags.piece ?? "4"], {
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
    const results = Object.fromEntries(transports.map((name) => [name, []]));
    for (let run = 0; run < runs; run++) {
      for (const name of transports) {
        const verify = run === 0;
        const seconds =
          name === "curl" ? await baseline(setup, dir, curl, verify) : await pull(setup, dir, name, concurrency, verify);
        results[name].push(mb / seconds);
        console.log(`  run ${run + 1} ${name.padEnd(5)} ${(mb / seconds).toFixed(0).padStart(6)} MB/s  (${seconds.toFixed(2)} s)`);
      }
    }
    console.log("");
    const medians = Object.fromEntries(Object.entries(results).map(([name, values]) => [name, median(values)]));
    const reference = medians.curl;
    for (const [name, value] of Object.entries(medians)) {
      const ratio = reference && name !== "curl" ? `  ${(value / reference).toFixed(2)}× ${curl ? "curl" : "node fetch"}` : "";
      const target = name === "curl" ? "" : value >= 500 && (!reference || value >= 0.8 * reference) ? "  ok" : "  MISS (target ≥ 500 MB/s and ≥ 0.8× baseline)";
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

/** Pulls every piece into a fresh store with the daemon's downloader; returns seconds. */
async function pull(setup, dir, transport, concurrency, verify) {
  const storeDir = path.join(dir, `child-${transport}`);
  const storage = await Storage.open({ dir: storeDir, gc: { intervalMs: 0 } });
  const pool = new PeerClientPool();
  try {
    const task = await storage.createTask({ taskId: setup.taskId, contentLength: setup.contentLength, pieceLength: setup.pieceLength });
    const downloader = new PeerPieceDownloader({ pool, concurrency, transport: transport === "grpc" ? "grpc" : "auto" });
    const parent = { peerId: "bench-parent-peer", hostId: "127.0.0.1-bench-parent", ip: "127.0.0.1", port: setup.grpcPort, downloadPort: setup.bytePort };
    const failures = [];
    const started = performance.now();
    const outcome = await downloader.download({
      task,
      hostId: "127.0.0.1-bench-child",
      peerId: "bench-child-peer",
      parents: [parent],
      events: { pieceFinished: () => {}, pieceFailed: (number, _parent, error) => failures.push(`${number}: ${error.message}`) },
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
    const response = await fetch(url);
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
