#!/usr/bin/env node
/* global performance, fetch, setInterval, clearInterval */
// Manager benchmark (issue 5): ListSchedulers throughput with 100 clusters / 1,000
// schedulers on PGlite and on PostgreSQL side by side (gRPC over loopback, the manager
// a separate process), manager RSS while 1,000 keepalive streams are held, how fast an
// inactive member is noticed, and start time on an existing and on a new embedded
// database. Every figure is a median over runs; next to req/s it prints the manager's
// CPU time per call and how long it waited for a CPU, which tell the manager's cost from
// other load on the machine (req/s swings with that load). A missed target
// prints MISS; only errors make the exit code non-zero. Needs a build (`pnpm build`).
//   node packages/manager/bench/run.mjs [--short] [--seconds N] [--runs N]
import "reflect-metadata";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { bidiStream, createRpcClient, manager as m, unary } from "@df/rpc";
import { frame, leanChannel } from "./lean-unary.mjs";

const here = import.meta.dirname;
const bin = path.join(here, "..", "bin", "df-manager.js");
const args = process.argv.slice(2);
const short = args.includes("--short");
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const SECONDS = option("--seconds", short ? 2 : 5);
const RUNS = option("--runs", short ? 1 : 3);
const STARTS = short ? 1 : 3;
// Members beat every 0.8 × interval; the manager's timeout is its default, 1.5 × interval.
const INTERVAL_MS = short ? 2000 : 5000;
const CLUSTERS = 100;
const SCHEDULERS = 1000;
const CHANNELS = 4;
const IN_FLIGHT = 32;
const PASSWORD = "bench-root-password";
const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim() || 100);

// ListSchedulers from 5,000 different peers, encoded once: the load clients neither
// encode requests nor decode answers (lean-unary.mjs); one answer per worker goes
// through @df/rpc and is checked.
const PEERS = 5000;
const LIST_PATH = "/df.manager.v1.Manager/ListSchedulers";
const peerRequests = Array.from({ length: PEERS }, (_, i) =>
  m.ListSchedulersRequest.create({
    sourceType: m.SourceType.PEER,
    hostname: `rack-${i % CLUSTERS}-host-${i}`,
    ip: `10.${i % CLUSTERS}.${(i >> 4) & 255}.${i & 255}`,
    idc: `idc-${i % CLUSTERS}`,
    location: `cn|r${i % 10}`,
    version: "bench",
  }),
);
const peerFrames = peerRequests.map((r) => frame(m.ListSchedulersRequest.encode(r).finish()));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function spawnManager(args) {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, "--rest-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--log-level", "warn", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DF_MANAGER_ROOT_PASSWORD: PASSWORD, DF_MANAGER_KEEPALIVE__INTERVAL: `${INTERVAL_MS}ms` },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c) => (stderr += c));
  const ready = new Promise((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (line) => {
      const match = /rest=(\S+) grpc=(\S+)/.exec(line);
      if (match) resolve({ rest: match[1], grpc: match[2], startMs: performance.now() - started });
    });
    child.once("exit", (code) => reject(new Error(`df-manager exited ${code}: ${stderr}`)));
  });
  return {
    child,
    ready,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

async function rssMb(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/**
 * User + system CPU time a process has used (ms, all threads), and how long its main
 * thread (the event loop) was runnable but waiting for a CPU (ms): other load's share.
 */
async function cpuMs(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
  const [, waitNs] = (await readFile(`/proc/${pid}/schedstat`, "utf8")).split(" ");
  return { cpu: (Number(fields[11]) + Number(fields[12])) * TICK_MS, waited: Number(waitNs) / 1e6 };
}

async function rest(base, method, route, token, body) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** 100 clusters (the default one and 99 with scopes), 1,000 schedulers registered, 10 per cluster. */
async function populate(base, client) {
  const { token } = await rest(base, "POST", "/api/v1/users/signin", undefined, { name: "root", password: PASSWORD });
  const clusterIds = [1];
  for (let i = 1; i < CLUSTERS; i += 10) {
    const batch = Array.from({ length: Math.min(10, CLUSTERS - i) }, (_, k) => i + k);
    const created = await Promise.all(
      batch.map((n) =>
        rest(base, "POST", "/api/v1/scheduler-clusters", token, {
          name: `bench-${n}`,
          scopes: { cidrs: [`10.${n}.0.0/16`], hostnames: [`^rack-${n}-`], idc: `idc-${n}`, location: `cn|r${n % 10}|z${n}` },
        }),
      ),
    );
    clusterIds.push(...created.map((c) => c.id));
  }
  const members = Array.from({ length: SCHEDULERS }, (_, i) => ({
    hostname: `sched-${i}`,
    ip: `10.${i % CLUSTERS}.${Math.floor(i / CLUSTERS)}.1`,
    clusterId: clusterIds[i % CLUSTERS],
  }));
  for (let i = 0; i < members.length; i += 100) {
    await Promise.all(
      members.slice(i, i + 100).map((s, j) =>
        unary(client(i + j), "updateScheduler", m.UpdateSchedulerRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: s.hostname, ip: s.ip, port: 8002, schedulerClusterId: s.clusterId })),
      ),
    );
  }
  return members;
}

const keepAliveOf = (s) => m.KeepAliveRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: s.hostname, ip: s.ip, clusterId: s.clusterId });

/** One KeepAlive stream per member, each beating every 0.8 × interval at its own phase. */
async function holdStreams(members, client) {
  const streams = [];
  // Beating starts with the first stream: opening 1,000 can take longer than the timeout.
  const tickMs = 100;
  const perTick = members.length / ((0.8 * INTERVAL_MS) / tickMs);
  let next = 0;
  let owed = 0;
  const timer = setInterval(() => {
    for (owed += perTick; owed >= 1 && streams.length > 0; owed--, next = (next + 1) % streams.length) {
      const held = streams[next % streams.length];
      if (held.muted) continue;
      held.lastBeat = performance.now();
      void held.stream.write(keepAliveOf(held.s)).catch(() => {});
    }
  }, tickMs);
  const close = () => {
    clearInterval(timer);
    for (const { stream } of streams) stream.cancel();
  };
  try {
    for (let i = 0; i < members.length; i += 100) {
      await Promise.all(
        members.slice(i, i + 100).map(async (s, j) => {
          const stream = bidiStream(client(i + j), "keepAlive");
          await stream.write(keepAliveOf(s));
          await stream.next();
          streams.push({ stream, s, lastBeat: performance.now(), muted: false });
        }),
      );
    }
  } catch (error) {
    close();
    throw error;
  }
  return { streams, close };
}

/** ListSchedulers from 5,000 different peers, CHANNELS × IN_FLIGHT at a time, for SECONDS. */
async function listLoad(clients, channels, pid) {
  let done = 0;
  let failed = 0;
  let answers = 0;
  const latencies = [];
  const deadline = performance.now() + SECONDS * 1000;
  async function worker(w) {
    for (let n = 0; performance.now() < deadline; n++) {
      const i = (w * 7919 + n * 104729) % PEERS;
      const t = performance.now();
      try {
        if (n === 0) {
          const { schedulers } = await unary(clients[w % CHANNELS], "listSchedulers", peerRequests[i]);
          answers += schedulers.length;
        } else if (!(await channels[w % CHANNELS].call(LIST_PATH, peerFrames[i]))) {
          failed++;
        }
        done++;
        if (n % 16 === 1) latencies.push(performance.now() - t);
      } catch {
        failed++;
      }
    }
  }
  const [cpu0, own0, t0] = [await cpuMs(pid), process.cpuUsage(), performance.now()];
  await Promise.all(Array.from({ length: CHANNELS * IN_FLIGHT }, (_, w) => worker(w)));
  const elapsedMs = performance.now() - t0;
  const cpu1 = await cpuMs(pid);
  const managerCpuMs = cpu1.cpu - cpu0.cpu;
  const own = process.cpuUsage(own0);
  return {
    rps: (done / elapsedMs) * 1000,
    failed,
    perAnswer: answers / (CHANNELS * IN_FLIGHT),
    latencies,
    cpuPerCallUs: (managerCpuMs * 1000) / done,
    busy: managerCpuMs / elapsedMs,
    waited: (cpu1.waited - cpu0.waited) / elapsedMs,
    clientCpuPerCallUs: (own.user + own.system) / done,
  };
}

/**
 * Liveness: one member goes silent with its stream open, another's stream ends. Returns
 * how long until ListSchedulers stops handing each out (from its last keepalive, and
 * from the stream's end).
 */
async function liveness(held, client) {
  const [silent, ended] = held.streams;
  const listed = async (s) => {
    const { schedulers } = await unary(client, "listSchedulers", m.ListSchedulersRequest.create({ hostname: "probe", ip: "127.0.0.9", schedulerClusterId: s.clusterId }));
    return schedulers.some((x) => x.hostname === s.hostname);
  };
  silent.muted = true;
  ended.muted = true;
  ended.stream.end();
  const endedAt = performance.now();
  const result = { silentMs: NaN, endedMs: NaN };
  for (const deadline = endedAt + 3 * INTERVAL_MS; performance.now() < deadline && (Number.isNaN(result.silentMs) || Number.isNaN(result.endedMs)); await sleep(25)) {
    const [silentListed, endedListed] = await Promise.all([listed(silent.s), listed(ended.s)]);
    if (!endedListed && Number.isNaN(result.endedMs)) result.endedMs = performance.now() - endedAt;
    if (!silentListed && Number.isNaN(result.silentMs)) result.silentMs = performance.now() - silent.lastBeat;
  }
  return result;
}

async function fleetRun(kind, url) {
  const manager = spawnManager(["--database-url", url]);
  const { rest: base, grpc } = await manager.ready;
  const pid = manager.child.pid;
  const clients = Array.from({ length: CHANNELS }, () => createRpcClient(m.ManagerClient, grpc, { defaultDeadlineMs: 30_000 }));
  const channels = Array.from({ length: CHANNELS }, () => leanChannel(grpc));
  const client = (i) => clients[i % CHANNELS];
  let held;
  try {
    const members = await populate(base, client);
    const rssBefore = await rssMb(pid);
    held = await holdStreams(members, client);
    await sleep(1000);
    const rssStreams = await rssMb(pid);
    const runs = [];
    for (let r = 0; r < RUNS; r++) runs.push(await listLoad(clients, channels, pid));
    const rssAfter = await rssMb(pid);
    const detection = await liveness(held, clients[0]);
    const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const pick = (key) => median(runs.map((r) => r[key]));
    return {
      kind,
      runs: runs.map((r) => r.rps),
      rps: pick("rps"),
      cpuPerCallUs: pick("cpuPerCallUs"),
      busy: pick("busy"),
      waited: pick("waited"),
      clientCpuPerCallUs: pick("clientCpuPerCallUs"),
      failed: runs.reduce((n, r) => n + r.failed, 0),
      perAnswer: Math.min(...runs.map((r) => r.perAnswer)),
      p50: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
      p99: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
      rssBefore,
      rssStreams,
      rssAfter,
      streams: held.streams.length,
      ...detection,
    };
  } finally {
    held?.close();
    for (const c of [...clients, ...channels]) c.close();
    await manager.stop();
  }
}

/** Process spawn to the readiness line, with the CPU it took, the time it waited for one and the RSS then. */
async function startOnce(url) {
  const manager = spawnManager(["--database-url", url]);
  try {
    const { startMs } = await manager.ready;
    const { cpu, waited } = await cpuMs(manager.child.pid);
    return { startMs, cpu, waited, rss: await rssMb(manager.child.pid) };
  } finally {
    await manager.stop();
  }
}

async function startTimes(dir) {
  const fresh = [];
  for (let i = 0; i < STARTS; i++) fresh.push(await startOnce(`pglite://${path.join(dir, `new-${i}`)}`));
  const existing = [];
  for (let i = 0; i < STARTS; i++) existing.push(await startOnce(`pglite://${path.join(dir, "new-0")}`));
  const memory = await startOnce("pglite:");
  const summary = (starts) => ({ ms: median(starts.map((s) => s.startMs)), cpu: median(starts.map((s) => s.cpu)), waited: median(starts.map((s) => s.waited)), rss: median(starts.map((s) => s.rss)) });
  return { fresh: summary(fresh), existing: summary(existing), memory: summary([memory]) };
}

async function postgresDatabase() {
  const base =
    process.env.DF_TEST_POSTGRES_URL ||
    execFileSync("bash", [path.join(here, "../../../scripts/ci/postgres.sh")], { encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] })
      .trim()
      .split("\n")
      .at(-1);
  const name = `df_bench_${process.pid}`;
  const admin = async (statement) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`drop database if exists ${name} with (force)`);
  await admin(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

const rows = [];
const row = (measure, pglite, postgres, target = "", pass = undefined) => rows.push({ measure, pglite, postgres, target, pass });
const verdict = (ok) => (ok ? "PASS" : "MISS");
const f0 = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : "-");

console.log(
  `df manager benchmark${short ? " (short)" : ""}: ${RUNS} run(s) of ${SECONDS} s per database, ${CHANNELS} channels × ${IN_FLIGHT} in flight, ` +
    `keepalive interval ${INTERVAL_MS / 1000} s, manager in its own process`,
);
// The PGlite run uses the embedded database as the manager runs by default: persisted in
// a data dir, opened again after its first start (as after any restart).
const dir = await mkdtemp(path.join(tmpdir(), "df-manager-bench-"));
let starts;
let pglite;
try {
  starts = await startTimes(dir);
  pglite = await fleetRun("PGlite", `pglite://${path.join(dir, "new-0")}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
const pgdb = await postgresDatabase();
let postgres;
try {
  postgres = await fleetRun("PostgreSQL", pgdb.url);
} finally {
  await pgdb.drop();
}

const both = (f) => [f(pglite), f(postgres)];
const [a, b] = [pglite, postgres];
row(`ListSchedulers req/s, median (${CLUSTERS} clusters, ${SCHEDULERS} schedulers)`, `${f0(a.rps)} ${verdict(a.rps >= 2000)}`, `${f0(b.rps)} ${verdict(b.rps >= 2000)}`, ">= 2,000", a.rps >= 2000 && b.rps >= 2000);
row("  each run (req/s)", ...both((r) => r.runs.map(f0).join(" / ")));
row("  manager CPU per call (µs); CPU used, event loop waiting for a CPU (% of the run)", ...both((r) => `${f0(r.cpuPerCallUs)}; ${f0(r.busy * 100)} %, ${f0(r.waited * 100)} %`));
row("  one core's worth: 1 s / CPU per call (req/s)", ...both((r) => f0(1e6 / r.cpuPerCallUs)));
row("  bench client CPU per call (µs)", ...both((r) => f0(r.clientCpuPerCallUs)));
row("  latency p50 / p99 (ms)", ...both((r) => `${f1(r.p50)} / ${f1(r.p99)}`));
row("  schedulers per answer, failed calls", ...both((r) => `${f1(r.perAnswer)}, ${r.failed}`), "10, 0", a.perAnswer === 10 && b.perAnswer === 10 && a.failed + b.failed === 0);
row("manager RSS before streams (MB)", ...both((r) => f0(r.rssBefore)));
row(`manager RSS, ${a.streams} keepalive streams held (MB)`, `${f0(a.rssStreams)} ${verdict(a.rssStreams <= 300)}`, `${f0(b.rssStreams)} ${verdict(b.rssStreams <= 300)}`, "<= 300", a.rssStreams <= 300 && b.rssStreams <= 300);
row("manager RSS after the throughput runs (MB)", ...both((r) => f0(r.rssAfter)));
const limit = 2 * INTERVAL_MS;
row("silent member no longer listed, after its last keepalive (ms)", `${f0(a.silentMs)} ${verdict(a.silentMs <= limit)}`, `${f0(b.silentMs)} ${verdict(b.silentMs <= limit)}`, `<= 2 × interval = ${f0(limit)}`, a.silentMs <= limit && b.silentMs <= limit);
row("member no longer listed, after its stream ended (ms)", ...both((r) => f0(r.endedMs)), "at once");
const { fresh, existing, memory } = starts;
const startRow = (what, s, target) => row(`start, ${what} (ms)`, target ? `${f0(s.ms)} ${verdict(s.ms <= target)}` : f0(s.ms), "", target ? `<= ${f0(target)}` : "", target ? s.ms <= target : undefined);
const startCost = (what, s) => row(`  ${what}: CPU used, main thread waiting for a CPU (ms); RSS then (MB)`, `${f0(s.cpu)}, ${f0(s.waited)}; ${f0(s.rss)}`, "");
startRow("existing embedded database", existing, 2000);
startCost("existing", existing);
startRow("new embedded database", fresh, 5000);
startCost("new", fresh);
startRow("in-memory embedded database", memory);

console.log("");
console.log("| measure | PGlite | PostgreSQL | target |");
console.log("| --- | ---: | ---: | --- |");
for (const r of rows) console.log(`| ${r.measure} | ${r.pglite} | ${r.postgres} | ${r.target} |`);
console.log("");
console.log(
  "Start time: process spawn to the readiness line (database opened and migrated, both listeners bound); medians of " +
    `${STARTS}. CPU per call is the manager process's own (PostgreSQL's server processes are not counted); ` +
    "time the event loop spent waiting for a CPU is other load's (the bench client, other processes on the machine).",
);
const missed = rows.filter((r) => r.pass === false);
console.log(missed.length === 0 ? "every manager target met" : `${missed.length} target(s) missed: ${missed.map((r) => r.measure.trim()).join("; ")}`);
