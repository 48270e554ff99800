// System "df": the scheduler and the seed peer on hosts of their own, a dfdaemon on every
// peer host, then dfget on every peer host at once. The binaries and the configs are the
// df root's own (`--df-root`: this repo, or a built worktree of an older commit), the
// configs being the ones examples/local-cluster runs with, so an old and a new build are
// compared as they ship. No manager: the daemons get a static --scheduler list.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { runIn, startIn } from "../procs.mjs";
import { CpuLedger, onEveryPeer, startOrigin, stopAll } from "./common.mjs";

const SCHEDULER_PORT = 8002;
const UPLOAD_PORT = 4000;
const BYTES_PORT = 4005;

export function dfBinaries(dfRoot) {
  return {
    scheduler: join(dfRoot, "packages/scheduler/bin/df-scheduler.js"),
    dfdaemon: join(dfRoot, "packages/daemon/bin/dfdaemon.js"),
    dfget: join(dfRoot, "packages/cli/bin/dfget.js"),
    config: (name) => join(dfRoot, "examples/local-cluster", `${name}.yaml`),
  };
}

/** What must exist for the df root to be runnable: the bins load these built files. */
export function dfBuildOutputs(dfRoot) {
  return [
    join(dfRoot, "packages/scheduler/dist/cli.js"),
    join(dfRoot, "packages/daemon/dist/cli.js"),
    join(dfRoot, "packages/cli/dist/bundle/dfget.cjs"),
    ...["scheduler", "seed", "peer"].map((name) => join(dfRoot, "examples/local-cluster", `${name}.yaml`)),
  ];
}

/** dfget's last stderr line names where the bytes came from: "… (from seed 156.0 MiB, peers 100.0 MiB)". */
export function parseSources(stderr) {
  const sources = {};
  const summary = /from ([^)]*)\)\s*$/m.exec(stderr);
  for (const part of summary?.[1].split(", ") ?? []) {
    const [source, amount] = part.split(" ");
    if (source && Number.isFinite(Number(amount))) sources[source] = Number(amount);
  }
  return sources;
}

/**
 * The origin is on the testbed's private subnet, which the http source refuses unless
 * allowed; a df root from before that policy has no such option (and needs none).
 */
function originAllowEnv(ctx) {
  if (!existsSync(join(ctx.dfRoot, "plugins/source-http/src/destinations.ts"))) return {};
  const allow = [ctx.testbed.subnet.cidr];
  return { DF_DAEMON_SOURCES: JSON.stringify([{ name: "http", options: { destinations: { allow } } }]) };
}

/**
 * Extra environment for every dfdaemon, for experiments with its config keys, e.g.
 * DF_NET_DAEMON_ENV='{"DF_DAEMON_DOWNLOAD__CONCURRENT_PIECE_COUNT":"16"}'.
 */
function experimentEnv() {
  const raw = process.env.DF_NET_DAEMON_ENV;
  if (!raw) return {};
  const parsed = JSON.parse(raw);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("DF_NET_DAEMON_ENV must be a JSON object of variable names to strings");
  return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
}

export async function runDf(ctx) {
  const bin = dfBinaries(ctx.dfRoot);
  const ledger = new CpuLedger();
  const procs = [];
  const hostOf = (name) => ctx.testbed.hosts.get(name);
  const logLevel = ctx.logLevel;
  const pieceLength = ctx.pieceMiB === undefined ? [] : ["--piece-length", String(ctx.pieceMiB * 1024 * 1024)];
  try {
    const origin = await startOrigin(ctx);
    procs.push({ host: "origin", proc: origin.proc });

    const sched = hostOf("sched");
    const scheduler = await startIn(
      sched.ns,
      "scheduler",
      process.execPath,
      [bin.scheduler, "--config", bin.config("scheduler"), "--listen", `${sched.ip}:${SCHEDULER_PORT}`, "--metrics-listen", "", "--log-level", logLevel],
      { ready: /df-scheduler listening on (\S+)/, logFile: join(ctx.logDir, "scheduler.log") },
    );
    procs.push({ host: "sched", proc: scheduler });
    const schedulerAddress = `${sched.ip}:${SCHEDULER_PORT}`;

    const startDaemon = async (name, isSeed) => {
      const host = hostOf(name);
      const dir = join(ctx.workDir, "df", name);
      await mkdir(dir, { recursive: true });
      const proc = await startIn(
        host.ns,
        name,
        process.execPath,
        [
          bin.dfdaemon,
          "--config", bin.config(isSeed ? "seed" : "peer"),
          ...(isSeed ? ["--seed"] : []),
          "--scheduler", schedulerAddress,
          "--storage-dir", join(dir, "storage"),
          "--socket", join(dir, "dfdaemon.sock"),
          "--upload-listen", `${host.ip}:${UPLOAD_PORT}`,
          "--bytes-listen", `${host.ip}:${BYTES_PORT}`,
          "--metrics-listen", "",
          "--hostname", name,
          "--ip", host.ip,
          "--log-level", logLevel,
        ],
        { ready: /dfdaemon ready: socket=(\S+)/, logFile: join(ctx.logDir, `${name}.log`), timeoutMs: 60_000, env: { ...originAllowEnv(ctx), ...experimentEnv() } },
      );
      procs.push({ host: name, proc });
      return { name, proc, socket: proc.match[1] };
    };
    await startDaemon("seed", true);
    // Started together: on 2 cores, 16 daemons one after the other would take a while.
    const daemons = await Promise.all(ctx.peers.map((peer) => startDaemon(peer, false)));

    const peers = await onEveryPeer(ctx, async (peer, i) => {
      const output = join(ctx.outDir, `${peer}.bin`);
      const r = await runIn(hostOf(peer).ns, process.execPath, [bin.dfget, origin.url, "-O", output, "--endpoint", daemons[i].socket, "--no-progress", ...pieceLength], {
        timeoutMs: Math.max(1000, ctx.deadline - performance.now()),
        keepStdout: false,
      });
      ledger.add(peer, r.cpu);
      const ok = r.code === 0 && !r.timedOut;
      return {
        started: r.started,
        ended: r.ended,
        result: {
          ok,
          output,
          code: r.code,
          timedOut: r.timedOut,
          sources: parseSources(r.stderr),
          error: ok ? undefined : r.stderr.trim().split("\n").slice(-3).join(" | ").slice(-500) || `exit ${r.code ?? r.signal}`,
          cpu: r.cpu,
          index: i,
        },
      };
    });
    const stats = await origin.stats();
    return { peers, originEgressBytes: stats.bytesServed, egressSource: "origin's HTTP body bytes", originRequests: stats.gets, ledger };
  } finally {
    await stopAll(procs, ledger);
  }
}
