#!/usr/bin/env node
/* global performance, fetch, setInterval, clearInterval */
// Manager benchmark: ListSchedulers throughput with 100 clusters / 1,000 schedulers on
// PGlite and on PostgreSQL side by side (gRPC over loopback, the manager a separate
// process), manager RSS while 1,000 keepalive streams are held, and start time on an
// existing and on a new embedded database. Needs a build (`pnpm -F @df/manager build`).
//   node packages/manager/bench/run.mjs [--short] [--seconds N]
import "reflect-metadata";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { makeGenericClientConstructor } from "@grpc/grpc-js";
import { bidiStream, createRpcClient, manager as m, unary } from "@df/rpc";

// The load clients skip decoding answers (the figure is the manager's capacity, not the
// bench client's protobuf decoder, which shares the 2 cores); one answer per worker is
// decoded and checked.
const RawListClient = makeGenericClientConstructor(
  { ...m.ManagerService, listSchedulers: { ...m.ManagerService.listSchedulers, responseDeserialize: (bytes) => bytes } },
  "Manager",
);
RawListClient.service = { ...m.ManagerService, listSchedulers: { ...m.ManagerService.listSchedulers, responseDeserialize: (bytes) => bytes } };

const here = import.meta.dirname;
const bin = path.join(here, "..", "bin", "df-manager.js");
const short = process.argv.includes("--short");
const secondsArg = process.argv.indexOf("--seconds");
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : short ? 2 : 5;
const CLUSTERS = 100;
const SCHEDULERS = 1000;
const CHANNELS = 4;
const IN_FLIGHT = 32;
const PASSWORD = "bench-root-password";

function spawnManager(args, env = {}) {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, "--rest-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--log-level", "warn", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DF_MANAGER_ROOT_PASSWORD: PASSWORD, DF_MANAGER_KEEPALIVE__INTERVAL: "5s", DF_MANAGER_KEEPALIVE__TIMEOUT: "1h", ...env },
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

async function fleetRun(kind, url) {
  const manager = spawnManager(["--database-url", url]);
  const { rest: base, grpc } = await manager.ready;
  try {
    const { token } = await rest(base, "POST", "/api/v1/users/signin", undefined, { name: "root", password: PASSWORD });
    const clusterIds = [1];
    for (let i = 1; i < CLUSTERS; i++) {
      const cluster = await rest(base, "POST", "/api/v1/scheduler-clusters", token, {
        name: `bench-${i}`,
        scopes: { cidrs: [`10.${i}.0.0/16`], hostnames: [`^rack-${i}-`], idc: `idc-${i}`, location: `cn|r${i % 10}|z${i}` },
      });
      clusterIds.push(cluster.id);
    }
    const clients = Array.from({ length: CHANNELS }, () => createRpcClient(m.ManagerClient, grpc, { defaultDeadlineMs: 30_000 }));
    // 1,000 schedulers, 10 per cluster, registered and kept alive over 1,000 streams.
    const members = [];
    for (let i = 0; i < SCHEDULERS; i++) {
      const clusterId = clusterIds[i % CLUSTERS];
      members.push({ hostname: `sched-${i}`, ip: `10.${i % CLUSTERS}.${Math.floor(i / CLUSTERS)}.1`, clusterId });
    }
    const client = (i) => clients[i % CHANNELS];
    for (let i = 0; i < members.length; i += 50) {
      await Promise.all(
        members.slice(i, i + 50).map((s, j) =>
          unary(client(i + j), "updateScheduler", m.UpdateSchedulerRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: s.hostname, ip: s.ip, port: 8002, schedulerClusterId: s.clusterId })),
        ),
      );
    }
    const rssBefore = await rssMb(manager.child.pid);
    const streams = [];
    for (let i = 0; i < members.length; i += 50) {
      await Promise.all(
        members.slice(i, i + 50).map(async (s, j) => {
          const stream = bidiStream(client(i + j), "keepAlive");
          await stream.write(m.KeepAliveRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: s.hostname, ip: s.ip, clusterId: s.clusterId }));
          await stream.next();
          streams.push({ stream, s });
        }),
      );
    }
    // Each member beats every 4 s at its own phase, as real schedulers do.
    let next = 0;
    const beat = setInterval(() => {
      for (let k = 0; k < streams.length / 40; k++, next = (next + 1) % streams.length) {
        const { stream, s } = streams[next];
        void stream.write(m.KeepAliveRequest.create({ sourceType: m.SourceType.SCHEDULER, hostname: s.hostname, ip: s.ip, clusterId: s.clusterId })).catch(() => {});
      }
    }, 100);
    await new Promise((r) => setTimeout(r, 1000));
    const rssStreams = await rssMb(manager.child.pid);

    // ListSchedulers from many different peers for SECONDS.
    let done = 0;
    let failed = 0;
    let answers = 0;
    const deadline = performance.now() + SECONDS * 1000;
    const latencies = [];
    async function worker(w) {
      for (let n = 0; performance.now() < deadline; n++) {
        const i = (w * 7919 + n * 104729) % 5000;
        const request = m.ListSchedulersRequest.create({
          sourceType: m.SourceType.PEER,
          hostname: `rack-${i % CLUSTERS}-host-${i}`,
          ip: `10.${i % CLUSTERS}.${(i >> 4) & 255}.${i & 255}`,
          idc: `idc-${i % CLUSTERS}`,
          location: `cn|r${i % 10}`,
          version: "bench",
        });
        const t = performance.now();
        try {
          if (n === 0) {
            const { schedulers } = await unary(clients[w % CHANNELS], "listSchedulers", request);
            answers += schedulers.length;
          } else {
            const bytes = await unary(rawClients[w % CHANNELS], "listSchedulers", request);
            if (!bytes.length) failed++;
          }
          done++;
          if (n % 16 === 0) latencies.push(performance.now() - t);
        } catch {
          failed++;
        }
      }
    }
    const rawClients = Array.from({ length: CHANNELS }, () => createRpcClient(RawListClient, grpc, { defaultDeadlineMs: 30_000 }));
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CHANNELS * IN_FLIGHT }, (_, w) => worker(w)));
    for (const c of rawClients) c.close();
    const elapsed = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const rssAfter = await rssMb(manager.child.pid);
    clearInterval(beat);
    for (const { stream } of streams) stream.cancel();
    for (const c of clients) c.close();
    return {
      kind,
      rps: done / elapsed,
      failed,
      perAnswer: answers / (CHANNELS * IN_FLIGHT),
      p50: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
      p99: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
      rssBefore,
      rssStreams,
      rssAfter,
      streams: streams.length,
    };
  } finally {
    await manager.stop();
  }
}

async function startTimes(dir) {
  {
    const fresh = spawnManager(["--database-url", `pglite://${path.join(dir, "db")}`]);
    const { startMs: newMs } = await fresh.ready;
    await fresh.stop();
    const existing = [];
    for (let i = 0; i < (short ? 1 : 3); i++) {
      const again = spawnManager(["--database-url", `pglite://${path.join(dir, "db")}`]);
      existing.push((await again.ready).startMs);
      await again.stop();
    }
    const memory = spawnManager(["--database-url", "pglite:"]);
    const { startMs: memoryMs } = await memory.ready;
    await memory.stop();
    return { newMs, existingMs: Math.min(...existing), memoryMs };
  }
}

async function postgresUrl() {
  const base =
    process.env.DF_TEST_POSTGRES_URL ||
    execFileSync("bash", [path.join(here, "../../../scripts/ci/postgres.sh")], { encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] }).trim();
  const name = `df_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

const mark = (ok) => (ok ? "ok" : "MISS");
const f0 = (n) => (Number.isFinite(n) ? n.toFixed(0) : "-");
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : "-");

console.log(`df manager benchmark (${SECONDS}s per throughput run, ${CHANNELS} channels x ${IN_FLIGHT} in flight, manager in its own process)`);
// The PGlite run uses the embedded database as the manager runs by default: persisted in
// a data dir, opened again after the first start (as after any restart).
const dir = await mkdtemp(path.join(tmpdir(), "df-manager-bench-"));
let starts;
let pglite;
try {
  starts = await startTimes(dir);
  pglite = await fleetRun("PGlite", `pglite://${path.join(dir, "db")}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
const pgdb = await postgresUrl();
let postgres;
try {
  postgres = await fleetRun("PostgreSQL", pgdb.url);
} finally {
  await pgdb.drop();
}

console.log("");
console.log(`| measure | PGlite | PostgreSQL | target |`);
console.log(`| --- | ---: | ---: | --- |`);
console.log(`| ListSchedulers req/s (${CLUSTERS} clusters, ${SCHEDULERS} schedulers) | ${f0(pglite.rps)} ${mark(pglite.rps >= 2000)} | ${f0(postgres.rps)} ${mark(postgres.rps >= 2000)} | >= 2,000 |`);
console.log(`| ListSchedulers latency p50 / p99 (ms) | ${f1(pglite.p50)} / ${f1(pglite.p99)} | ${f1(postgres.p50)} / ${f1(postgres.p99)} | |`);
console.log(`| schedulers per answer, failed calls | ${f1(pglite.perAnswer)}, ${pglite.failed} | ${f1(postgres.perAnswer)}, ${postgres.failed} | 10, 0 |`);
console.log(`| manager RSS before streams (MB) | ${f0(pglite.rssBefore)} | ${f0(postgres.rssBefore)} | |`);
console.log(`| manager RSS, ${pglite.streams} keepalive streams held (MB) | ${f0(pglite.rssStreams)} ${mark(pglite.rssStreams <= 300)} | ${f0(postgres.rssStreams)} ${mark(postgres.rssStreams <= 300)} | <= 300 |`);
console.log(`| manager RSS after the throughput run (MB) | ${f0(pglite.rssAfter)} | ${f0(postgres.rssAfter)} | |`);
console.log(`| start, existing embedded database (ms) | ${f0(starts.existingMs)} ${mark(starts.existingMs <= 2000)} | | <= 2,000 |`);
console.log(`| start, new embedded database (ms) | ${f0(starts.newMs)} ${mark(starts.newMs <= 5000)} | | <= 5,000 |`);
console.log(`| start, in-memory embedded database (ms) | ${f0(starts.memoryMs)} | | |`);
console.log("");
console.log("Start time is process spawn to the readiness line (database opened and migrated, both listeners bound).");
