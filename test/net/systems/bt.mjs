// System "bt": a BitTorrent swarm. Debian's opentracker on the tracker host, an aria2c
// seeder on the origin host (it holds the file first, as the HTTP origin does for the
// other systems), an aria2c leecher on every peer host. DHT and local peer discovery are
// off, so peers meet only through the tracker on the test network. Leechers keep seeding
// once done (as df peers keep serving) until every peer has finished.
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { runIn, startIn } from "../procs.mjs";
import { CpuLedger, onEveryPeer, sleep, stopAll } from "./common.mjs";

export const TRACKER_PORT = 6969;
const BT_PORT = 6881;
const RPC_PORT = 6800;

/** Options every aria2c of the swarm runs with. */
function aria2Common(dir, hook) {
  return [
    // Run the moment the last piece is verified, before seeding: it prints one line on
    // aria2c's stdout (inherited), which is how we time a leecher's completion.
    `--on-bt-download-complete=${hook}`,
    `--dir=${dir}`,
    "--enable-dht=false",
    "--enable-dht6=false",
    "--bt-enable-lpd=false",
    // The namespaces are IPv4 only (netns.mjs); without this aria2c logs a bind error.
    "--disable-ipv6=true",
    `--listen-port=${BT_PORT}`,
    // Seed until stopped: a finished peer keeps serving the others, as a df peer does.
    "--seed-ratio=0.0",
    "--summary-interval=0",
    "--show-console-readout=false",
    "--console-log-level=notice",
    "--check-certificate=false",
    "--auto-save-interval=0",
    // falloc: space reserved at once, no zeros written first (prealloc would write the
    // whole file before the download starts and charge it to the run).
    "--file-allocation=falloc",
    "--enable-rpc=true",
    "--rpc-listen-all=false",
    `--rpc-listen-port=${RPC_PORT}`,
  ];
}

export async function runBt(ctx) {
  const ledger = new CpuLedger();
  const procs = [];
  const hostOf = (name) => ctx.testbed.hosts.get(name);
  try {
    // The tracker: opentracker chroots to -d and reads the whitelist from inside it;
    // Debian builds it in whitelist mode, so the torrent's info hash must be listed.
    const trackerDir = join(ctx.workDir, "tracker");
    await mkdir(trackerDir, { recursive: true });
    await writeFile(join(trackerDir, "whitelist"), `${ctx.torrent.infoHash}\n`);
    const hook = join(ctx.workDir, "bt-complete.sh");
    await writeFile(hook, '#!/bin/sh\necho "df-net: bt download complete $1 $3"\n', { mode: 0o755 });
    const tracker = hostOf(ctx.trackerHost);
    const trackerProc = await startIn(
      tracker.ns,
      "opentracker",
      "opentracker",
      ["-i", tracker.ip, "-p", String(TRACKER_PORT), "-P", String(TRACKER_PORT), "-w", "/whitelist", "-d", trackerDir, "-u", "nobody"],
      { logFile: join(ctx.logDir, "opentracker.log") },
    );
    procs.push({ host: ctx.trackerHost, proc: trackerProc });
    await waitHttp(tracker.ns, `http://${tracker.ip}:${TRACKER_PORT}/stats`, 10_000);

    // The seeder: the file already in place, pieces trusted without a hash check (the
    // torrent was made from this very file), so it serves from the first second.
    const origin = hostOf("origin");
    const seeder = await startIn(
      origin.ns,
      "aria2c-seeder",
      "aria2c",
      [...aria2Common(dirname(ctx.file.path), hook), "--bt-seed-unverified=true", "--check-integrity=false", ctx.torrent.path],
      { logFile: join(ctx.logDir, "aria2c-seeder.log") },
    );
    procs.push({ host: "origin", proc: seeder });
    await waitRpc(origin.ns, 15_000);

    const leechers = [];
    const peers = await onEveryPeer(ctx, async (peer, i) => {
      const host = hostOf(peer);
      const dir = join(ctx.outDir, peer);
      await mkdir(dir, { recursive: true });
      const started = performance.now();
      const proc = await startIn(host.ns, `aria2c-${peer}`, "aria2c", [...aria2Common(dir, hook), ctx.torrent.path], {
        logFile: join(ctx.logDir, `aria2c-${peer}.log`),
      });
      procs.push({ host: peer, proc });
      leechers.push(proc);
      const output = join(dir, basename(ctx.file.path));
      // The hook's line says the last piece is verified (aria2c then keeps seeding); an
      // exit before that is a failure.
      const outcome = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ ok: false, timedOut: true, error: "timed out" }), Math.max(1000, ctx.deadline - performance.now()));
        proc.onLine((line) => {
          if (line.startsWith("df-net: bt download complete")) {
            clearTimeout(timer);
            resolve({ ok: true });
          }
        });
        proc.exited.then(({ code, signal }) => {
          clearTimeout(timer);
          resolve({ ok: false, error: `aria2c exited (${signal ?? code}) before completing: ${proc.tail().trim().split("\n").slice(-2).join(" | ")}` });
        });
      });
      return { started, ended: performance.now(), result: { ...outcome, output, index: i } };
    });
    const upload = await seederUpload(origin.ns);
    return {
      peers,
      originEgressBytes: upload,
      egressSource: "the aria2c seeder's uploadLength (RPC)",
      ledger,
    };
  } finally {
    await stopAll(procs, ledger);
  }
}

async function waitHttp(ns, url, timeoutMs) {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const r = await runIn(ns, "curl", ["-s", "-o", "/dev/null", "--max-time", "1", url], { timeoutMs: 3000 });
    if (r.code === 0) return;
    await sleep(200);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function rpc(ns, method, params) {
  const body = JSON.stringify({ jsonrpc: "2.0", id: "net", method, params });
  const r = await runIn(ns, "curl", ["-s", "--max-time", "2", "-d", body, `http://127.0.0.1:${RPC_PORT}/jsonrpc`], { timeoutMs: 5000 });
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(r.stdout.toString()).result;
  } catch {
    return undefined;
  }
}

async function waitRpc(ns, timeoutMs) {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (await rpc(ns, "aria2.getVersion", [])) return;
    await sleep(200);
  }
  throw new Error(`aria2c's RPC in ${ns} did not answer within ${timeoutMs} ms`);
}

/** Payload bytes the seeder uploaded, as aria2c counts them. */
async function seederUpload(ns) {
  const active = await rpc(ns, "aria2.tellActive", [["uploadLength"]]);
  if (!Array.isArray(active)) return undefined;
  return active.reduce((sum, d) => sum + Number(d.uploadLength ?? 0), 0);
}
