// What every system run shares: the origin process on the origin host, peers started
// on their schedule, and the CPU ledger that charges each process to its host.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startIn } from "../procs.mjs";

const ORIGIN_SCRIPT = fileURLToPath(new URL("../origin.mjs", import.meta.url));
export const ORIGIN_PORT = 8080;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds per host, summed over every process that ran there. */
export class CpuLedger {
  perHost = {};
  add(host, seconds) {
    if (seconds === undefined || Number.isNaN(seconds)) return;
    this.perHost[host] = (this.perHost[host] ?? 0) + seconds;
  }
}

/** Starts the origin on the origin host; `stats()` asks it for its counters over stdin. */
export async function startOrigin(ctx) {
  const host = ctx.testbed.hosts.get("origin");
  const proc = await startIn(
    host.ns,
    "origin",
    process.execPath,
    [ORIGIN_SCRIPT, host.ip, String(ORIGIN_PORT), ctx.file.urlPath, String(ctx.file.size), String(ctx.file.seed)],
    { ready: /origin ready: (\S+)/, logFile: join(ctx.logDir, "origin.log") },
  );
  const waiting = [];
  proc.onLine((line) => {
    if (line.startsWith("stats ")) waiting.shift()?.(JSON.parse(line.slice(6)));
  });
  return {
    proc,
    url: proc.match[1],
    stats() {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the origin did not answer stats within 5 s")), 5000);
        waiting.push((value) => {
          clearTimeout(timer);
          resolve(value);
        });
        proc.child.stdin.write("stats\n");
      });
    },
  };
}

/**
 * Runs `download(peer, i)` for every peer host, each at its start offset (the staggered
 * scenario; 0 otherwise), all bounded by the run's deadline. Returns the per-peer
 * results in peer order with `startOffset` (s after the first start), `seconds` (its own
 * download time) and `finishedAt` (s after the first start).
 */
export async function onEveryPeer(ctx, download) {
  const t0 = performance.now();
  // The runner lines the byte-counter samples up with this moment.
  ctx.t0 = t0;
  return Promise.all(
    ctx.peers.map(async (peer, i) => {
      await sleep(ctx.startOffsets[i] * 1000);
      const r = await download(peer, i);
      return {
        host: peer,
        startOffset: (r.started - t0) / 1000,
        seconds: (r.ended - r.started) / 1000,
        finishedAt: (r.ended - t0) / 1000,
        ...r.result,
      };
    }),
  );
}

/** Stops processes in reverse start order, charging each one's CPU to its host. */
export async function stopAll(procs, ledger) {
  for (const p of [...procs].reverse()) {
    try {
      ledger.add(p.host, await p.proc.stop());
    } catch {
      // a process that will not stop is killed at teardown; its CPU is lost
    }
  }
}
