// The network testbed of issue 12: the same shaped links and the same file for three
// systems (direct curl, df, a BitTorrent swarm), per-peer completion against the physical
// bound, origin egress, CPU per host, link use over time; a markdown table, a JSON file
// and an SVG chart per run. Needs root (network namespaces, tc). See test/README.md.
//
//   node test/net/run.mjs                       # the full matrix (pnpm bench:net)
//   node test/net/run.mjs --short               # N = 4, 32 MiB, 100 Mbit/s; CI; fails on a wide regression
//   node test/net/run.mjs --scenario sym --n 8,16 --size 256 --systems df,bt --runs 2
//   node test/net/run.mjs --df-root /work/df-old   # another built df tree, same testbed
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { cpus, release, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fillContent } from "@df/compliance-tests";
import { physicalBound, percentile, sha256File, startSampler, meanCpuBusy, linkUse } from "./metrics.mjs";
import { createTestbed, requireRoot, rootOrExit, sweep, tcStats } from "./netns.mjs";
import { killAll } from "./procs.mjs";
import { markdown } from "./report.mjs";
import { FULL_MATRIX, SCENARIOS, SHORT_MATRIX, hostsFor, startOffsets } from "./scenarios.mjs";
import { chart } from "./svg.mjs";
import { makeTorrent } from "./torrent.mjs";
import { runBt, TRACKER_PORT } from "./systems/bt.mjs";
import { dfBuildOutputs, runDf } from "./systems/df.mjs";
import { runDirect } from "./systems/direct.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = resolve(here, "../..");
const MiB = 2 ** 20;
// One prefix for every namespace of the testbed: what a crashed run leaves is found by it.
const PREFIX = "dfnet";
const SUBNET = { base: "10.77.0", cidr: "10.77.0.0/24", bits: 24 };
const SYSTEMS = { direct: runDirect, df: runDf, bt: runBt };

const { values: opts } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    short: { type: "boolean", default: false },
    scenario: { type: "string" },
    n: { type: "string" },
    size: { type: "string" },
    systems: { type: "string", default: "direct,df,bt" },
    runs: { type: "string", default: "1" },
    "df-root": { type: "string", default: repoRoot },
    out: { type: "string" },
    "queue-ms": { type: "string", default: "50" },
    "delay-ms": { type: "string", default: "0" },
    "loss-pct": { type: "string", default: "0" },
    "log-level": { type: "string", default: "info" },
    "piece-mib": { type: "string" },
    "timeout-factor": { type: "string", default: "2.5" },
    // Short mode's regression gate: df's slowest peer over this × the bound and over
    // gate-bt × aria2's slowest in the same case fails, and so does df's origin egress
    // over gate-egress × the file. At 32 MiB start-up dominates (aria2 takes ~2.4 × the
    // bound there too): the comparison with aria2 absorbs it, the bound catches the rest.
    "gate-bound": { type: "string", default: "2.5" },
    "gate-bt": { type: "string", default: "1.6" },
    "gate-egress": { type: "string", default: "1.5" },
    keep: { type: "boolean", default: false },
    // Another run holds the testbed (one at a time per machine): wait this long for it.
    "lock-wait": { type: "string", default: "3600" },
    help: { type: "boolean", default: false },
  },
});

if (opts.help) {
  const head = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
  console.log(head.slice(0, head.findIndex((l) => !l.startsWith("//"))).map((l) => l.replace(/^\/\/ ?/, "")).join("\n"));
  console.log(`
  --short                N = 4, 32 MiB, sym, all systems; exit 1 on a wide regression
  --scenario a,b         ${Object.keys(SCENARIOS).join(", ")} (default sym when --n or --size is given)
  --n 4,8,16             peers (default 8)
  --size 64,256          file size in MiB (default 256)
  --systems a,b          ${Object.keys(SYSTEMS).join(", ")} (default all)
  --runs K               repeat every case K times (default 1)
  --df-root DIR          the built df tree whose binaries and configs run (default this repo)
  --out DIR              results directory (default test/net/results/<timestamp>)
  --queue-ms MS          bfifo size in ms of the link rate (default 50)
  --delay-ms MS, --loss-pct P   netem on every link, only where the kernel has netem
  --log-level L          df's log level (default info)
  --piece-mib M          df only: dfget --piece-length of M MiB (4–64; default: df's own choice,
                         4 MiB up to 2000 MiB). Larger pieces are what large files get.
  --timeout-factor F     cut a run at F × (N downloads straight from the origin) + 60 s (default 2.5)
  --gate-bound F, --gate-bt F, --gate-egress F
                         short mode's limits: df max over F × bound and over F × aria2's
                         max in the same case, or origin egress over F × file, fails
                         (defaults 2.5, 1.6, 1.5)
  --lock-wait S          wait this long for another run to finish (default 3600)
  --keep                 keep the scratch directory (test files, outputs) in ${tmpdir()}`);
  process.exit(0);
}

const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
const systems = list(opts.systems);
for (const s of systems) if (!SYSTEMS[s]) usage(`unknown system ${s}`);
const matrix = (() => {
  if (opts.short && !opts.scenario && !opts.n && !opts.size) return SHORT_MATRIX;
  if (!opts.scenario && !opts.n && !opts.size) return FULL_MATRIX;
  const scenarios = list(opts.scenario ?? "sym");
  for (const s of scenarios) if (!SCENARIOS[s]) usage(`unknown scenario ${s}`);
  const ns = list(opts.n ?? (opts.short ? "4" : "8")).map(Number);
  const sizes = list(opts.size ?? (opts.short ? "32" : "256")).map(Number);
  if (ns.some((n) => !(n >= 1 && n <= 200)) || sizes.some((s) => !(s > 0))) usage("--n takes 1..200, --size MiB > 0");
  return scenarios.flatMap((scenario) => ns.flatMap((n) => sizes.map((sizeMiB) => ({ scenario, n, sizeMiB }))));
})();
const runs = Number(opts.runs);
const pieceMiB = opts["piece-mib"] === undefined ? undefined : Number(opts["piece-mib"]);
if (pieceMiB !== undefined && !(Number.isInteger(pieceMiB) && pieceMiB >= 4 && pieceMiB <= 64)) usage(`--piece-mib must be a whole number from 4 to 64, got ${opts["piece-mib"]}`);
const dfRoot = resolve(opts["df-root"]);

function usage(why) {
  console.error(`test/net/run.mjs: ${why} (--help lists the flags)`);
  process.exit(2);
}

// ── preconditions ────────────────────────────────────────────────────────────────────
rootOrExit();
// Two runs at once would sweep each other's namespaces: one at a time, by a lock file
// naming the pid that holds it (a dead holder's lock is taken over).
const LOCK = `/run/${PREFIX}-testbed.lock`;
await takeLock();
process.on("exit", releaseLock);
const { netem } = await requireRoot(PREFIX);
const delayMs = Number(opts["delay-ms"]);
const lossPct = Number(opts["loss-pct"]);
if ((delayMs > 0 || lossPct > 0) && !netem) {
  console.warn("test/net: this kernel has no netem qdisc: --delay-ms/--loss-pct are ignored, the links have no added delay or loss");
}
// A fresh machine has none of aria2, opentracker (nor maybe curl): install them from
// Debian the way the browser and PostgreSQL tests do (we are root by now).
const tools = ["curl", "aria2c", "opentracker"];
if (tools.some((cmd) => !which(cmd))) {
  console.log("test/net: installing the testbed's tools (scripts/ci/net-tools.sh)");
  const installed = spawnSync("bash", [join(repoRoot, "scripts/ci/net-tools.sh")], { stdio: "inherit", timeout: 900_000 });
  const still = tools.filter((cmd) => !which(cmd));
  if (installed.status !== 0 || still.length > 0) {
    console.error(`test/net: still missing ${still.join(", ") || "(install failed)"}: run scripts/ci/net-tools.sh as root on Debian`);
    process.exit(2);
  }
}
if (systems.includes("df")) {
  const missing = dfBuildOutputs(dfRoot).filter((path) => !exists(path));
  if (missing.length > 0) {
    console.error(`test/net: ${missing.join(", ")} not found: build the df root first (pnpm install && pnpm build in ${dfRoot})`);
    process.exit(2);
  }
}

const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, "-");
const resultsDir = resolve(opts.out ?? join(here, "results", stamp));
const workDir = await mkdtemp(join(tmpdir(), "df-net-"));
// Named in the lock, so that the next run removes it if this one is killed outright.
writeFileSync(LOCK, `${process.pid}\n${workDir}\n`);
let testbed;
let tearingDown = false;

async function teardown() {
  if (tearingDown) return;
  tearingDown = true;
  killAll();
  await (testbed ? testbed.teardown() : sweep(PREFIX, SUBNET)).catch((e) => console.error(`teardown: ${e.message}`));
  if (!opts.keep) await rm(workDir, { recursive: true, force: true }).catch(() => {});
  releaseLock();
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, async () => {
    console.error(`\ntest/net: ${signal}: tearing the testbed down`);
    await teardown();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

const stale = await sweep(PREFIX, SUBNET);
if (stale.length > 0) console.log(`removed leftovers of an earlier run: ${stale.join(", ")}`);

const meta = {
  startedAt: new Date().toISOString(),
  mode: opts.short ? "short" : "custom-or-full",
  dfRoot,
  dfCommit: gitCommit(dfRoot),
  testbedCommit: gitCommit(repoRoot),
  node: process.version,
  cores: cpus().length,
  kernel: release(),
  netem,
  queueMs: Number(opts["queue-ms"]),
  delayMs: netem ? delayMs : 0,
  lossPct: netem ? lossPct : 0,
  systems,
  runs,
  logLevel: opts["log-level"],
  ...(pieceMiB === undefined ? {} : { pieceMiB }),
  matrix,
  scenarioTitles: Object.fromEntries(Object.entries(SCENARIOS).map(([k, v]) => [k, v.title])),
  subnet: SUBNET.cidr,
};

const results = [];
let exitCode = 0;
try {
  await mkdir(resultsDir, { recursive: true });
  console.log(`df network testbed: ${matrix.length} case(s) × ${systems.join(",")} × ${runs} run(s); df root ${dfRoot} (${meta.dfCommit}); results in ${resultsDir}`);
  const files = new Map();
  for (const c of matrix) {
    const size = c.sizeMiB * MiB;
    if (!files.has(size)) files.set(size, await prepareFile(size));
    const file = files.get(size);
    const hosts = hostsFor(c.scenario, c.n, SUBNET);
    testbed = await createTestbed({ prefix: PREFIX, subnet: SUBNET, hosts, queueMs: meta.queueMs, delayMs: meta.delayMs, lossPct: meta.lossPct });
    const peers = hosts.filter((h) => h.role === "peer");
    const offsets = startOffsets(c.scenario, c.n);
    const origin = testbed.hosts.get("origin");
    const bound = {
      ...physicalBound({ fileBytes: size, us: origin.up, peerUps: peers.map((p) => p.up), peerDowns: peers.map((p) => p.down), lastStart: Math.max(...offsets) }),
      us: origin.up,
      usFrom: "origin uplink (df: the seed peer's uplink not added)",
    };
    // A hung run is cut at this many times what N plain downloads from the origin would take.
    const directExpected = Math.max((c.n * size * 8) / origin.up, (size * 8) / Math.min(...peers.map((p) => p.down))) + Math.max(...offsets);
    const budgetMs = (Number(opts["timeout-factor"]) * directExpected + 60) * 1000;
    for (let run = 1; run <= runs; run++) {
      for (const system of systems) {
        const label = `${c.scenario} N=${c.n} ${c.sizeMiB} MiB ${system} run ${run}`;
        const logDir = join(resultsDir, "logs", `${c.scenario}-n${c.n}-${c.sizeMiB}m-${system}-r${run}`);
        const outDir = join(workDir, "out");
        await rm(outDir, { recursive: true, force: true });
        await rm(join(workDir, "df"), { recursive: true, force: true });
        await mkdir(outDir, { recursive: true });
        await mkdir(logDir, { recursive: true });
        const ctx = {
          testbed,
          peers: peers.map((p) => p.name),
          startOffsets: offsets,
          file,
          torrent: file.torrent,
          trackerHost: "tracker",
          dfRoot,
          logLevel: opts["log-level"],
          pieceMiB,
          workDir,
          outDir,
          logDir,
          deadline: performance.now() + budgetMs,
        };
        // tc's counters live as long as the testbed (every system of a case): keep this run's share.
        const tcBefore = await tcStats(testbed).catch(() => undefined);
        const sampler = startSampler(testbed, 500);
        const wallStart = performance.now();
        let outcome;
        let crash;
        try {
          outcome = await withTimeout(SYSTEMS[system](ctx), budgetMs + 60_000, label);
        } catch (error) {
          crash = error;
          killAll();
        }
        const wallSeconds = (performance.now() - wallStart) / 1000;
        // Sample times from the first peer's start, as the completion times are.
        const shift = ctx.t0 === undefined ? 0 : (ctx.t0 - sampler.startedAt) / 1000;
        const samples = (await sampler.stop()).map((s) => ({ ...s, t: Math.round((s.t - shift) * 1000) / 1000 }));
        const result = await summarize({ c, system, run, file, bound, outcome, crash, samples, wallSeconds });
        result.uploadCapacityMbit = (origin.up + peers.reduce((a, p) => a + p.up, 0)) / 1e6;
        result.tc = diffTc(tcBefore, await tcStats(testbed).catch(() => undefined));
        results.push(result);
        console.log(oneLine(result));
        await writeOutputs();
      }
    }
    await testbed.teardown();
    testbed = undefined;
  }
  await writeOutputs();
  const md = markdown({ meta, results });
  console.log(`\n${md}`);
  console.log(`written: ${join(resultsDir, "results.md")}, results.json, chart.svg`);
  if (opts.short) exitCode = shortVerdict(results);
} catch (error) {
  console.error(`test/net: ${error.stack ?? error}`);
  exitCode = 1;
} finally {
  await teardown();
}
process.exit(exitCode);

// ── helpers ──────────────────────────────────────────────────────────────────────────

/** The test file of `size` bytes on disk (the same bytes the origin generates), its SHA-256 and its .torrent. */
async function prepareFile(size) {
  const dir = join(workDir, `file-${size}`);
  await mkdir(dir, { recursive: true });
  const name = `df-net-${size / MiB}MiB.bin`;
  const path = join(dir, name);
  const seed = 1200 + size / MiB;
  const handle = await open(path, "w");
  const chunk = Buffer.allocUnsafe(8 * MiB);
  for (let offset = 0; offset < size; offset += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, size - offset));
    fillContent(seed, offset, part);
    await handle.write(part, 0, part.length, offset);
  }
  await handle.close();
  const sha256 = await sha256File(path);
  const torrentPath = join(dir, `${name}.torrent`);
  const torrent = await makeTorrent(path, `http://${SUBNET.base}.4:${TRACKER_PORT}/announce`, torrentPath);
  return { path, size, seed, sha256, urlPath: `/${name}`, torrent: { path: torrentPath, ...torrent } };
}

async function summarize({ c, system, run, file, bound, outcome, crash, samples, wallSeconds }) {
  const peers = outcome?.peers ?? [];
  let hashBad = 0;
  for (const p of peers) {
    if (!p.ok) continue;
    p.sha256Ok = (await sha256File(p.output).catch(() => "")) === file.sha256;
    if (!p.sha256Ok) hashBad += 1;
  }
  const failures = crash
    ? [{ host: "(run)", error: crash.message }]
    : peers.filter((p) => !p.ok).map((p) => ({ host: p.host, error: p.error ?? "failed" }));
  const done = peers.filter((p) => p.ok);
  const times = done.map((p) => p.seconds);
  const complete = !crash && done.length === c.n;
  const makespan = complete ? Math.max(...done.map((p) => p.finishedAt)) : undefined;
  const ledger = outcome?.ledger?.perHost ?? {};
  return {
    scenario: c.scenario,
    n: c.n,
    sizeMiB: c.sizeMiB,
    fileBytes: file.size,
    system,
    run,
    p50: percentile(times, 50),
    max: complete ? Math.max(...times) : undefined,
    makespan,
    bound,
    efficiency: makespan ? bound.seconds / makespan : undefined,
    originEgressBytes: outcome?.originEgressBytes,
    egressSource: outcome?.egressSource,
    originRequests: outcome?.originRequests,
    failures,
    hashOk: hashBad === 0 && !crash,
    hashBad,
    cpuPerHost: Object.fromEntries(Object.entries(ledger).map(([k, v]) => [k, Math.round(v * 100) / 100])),
    meanMachineCpu: meanCpuBusy(samples, 0, makespan ?? Math.max(0, ...peers.map((p) => p.finishedAt ?? 0))),
    wallSeconds,
    linkUse: linkUse(samples),
    peers: peers.map(({ output, ...p }) => p),
    samples,
  };
}

/** Per host and direction: what the qdisc sent and dropped between two readings. */
function diffTc(before, after) {
  if (!before || !after) return after;
  const out = {};
  for (const [host, dirs] of Object.entries(after)) {
    out[host] = {};
    for (const [dir, now] of Object.entries(dirs)) {
      const then = before[host]?.[dir];
      out[host][dir] = now && then ? Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (then[k] ?? 0)])) : now;
    }
  }
  return out;
}

function oneLine(r) {
  const fmt = (x) => (x === undefined ? "—" : x.toFixed(1));
  const egress = r.originEgressBytes === undefined ? "—" : `${(r.originEgressBytes / r.fileBytes).toFixed(2)}×`;
  const cpu = Object.values(r.cpuPerHost).reduce((a, b) => a + b, 0);
  return `  ${r.scenario} N=${r.n} ${r.sizeMiB} MiB ${r.system.padEnd(6)} run ${r.run}: p50 ${fmt(r.p50)} s, max ${fmt(r.max)} s, last done ${fmt(r.makespan)} s, bound ${fmt(r.bound.seconds)} s, origin egress ${egress}, CPU ${cpu.toFixed(1)} s${r.failures.length ? `, ${r.failures.length} failed` : ""}${r.hashOk ? "" : `, ${r.hashBad} bad hash`}`;
}

async function writeOutputs() {
  await writeFile(join(resultsDir, "results.json"), `${JSON.stringify({ meta, results }, null, 1)}\n`);
  await writeFile(join(resultsDir, "results.md"), markdown({ meta, results }));
  await writeFile(join(resultsDir, "chart.svg"), chart({ meta, results }));
}

/** Short mode's gate: only a wide regression fails CI. */
function shortVerdict(all) {
  const gateBound = Number(opts["gate-bound"]);
  const gateEgress = Number(opts["gate-egress"]);
  const gateBt = Number(opts["gate-bt"]);
  const reasons = [];
  const btMax = (r) => all.find((o) => o.system === "bt" && o.scenario === r.scenario && o.n === r.n && o.sizeMiB === r.sizeMiB && o.run === r.run && o.failures.length === 0)?.max;
  for (const r of all) {
    const label = `${r.scenario} N=${r.n} ${r.sizeMiB} MiB ${r.system} run ${r.run}`;
    if (!r.hashOk) reasons.push(`${label}: ${r.hashBad || "some"} output(s) with the wrong SHA-256`);
    if (r.system !== "df") continue;
    for (const f of r.failures) reasons.push(`${label}: dfget failed on ${f.host}: ${f.error}`);
    const bt = btMax(r);
    const limit = Math.max(gateBound * r.bound.seconds, bt === undefined ? 0 : gateBt * bt);
    if (r.max !== undefined && r.max > limit) {
      const against = bt === undefined ? "" : ` and > ${gateBt} × aria2's ${bt.toFixed(1)} s`;
      reasons.push(`${label}: max ${r.max.toFixed(1)} s > ${gateBound} × bound ${r.bound.seconds.toFixed(1)} s${against}`);
    }
    if (r.originEgressBytes !== undefined && r.originEgressBytes > gateEgress * r.fileBytes) reasons.push(`${label}: origin egress ${(r.originEgressBytes / r.fileBytes).toFixed(2)}× the file > ${gateEgress}×`);
  }
  if (reasons.length === 0) {
    console.log(`short mode: PASS (df max ≤ ${gateBound} × bound or ≤ ${gateBt} × aria2's max, df origin egress ≤ ${gateEgress} × file, every hash right, no dfget failure)`);
    return 0;
  }
  console.log(`short mode: FAIL\n${reasons.map((r) => `  - ${r}`).join("\n")}`);
  return 1;
}

function withTimeout(promise, ms, label) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label} did not finish within ${Math.round(ms / 1000)} s: killed`)), ms);
    }),
  ]);
}

function which(cmd) {
  try {
    execFileSync("bash", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function exists(path) {
  try {
    closeSync(openSync(path, "r"));
    return true;
  } catch {
    return false;
  }
}

function gitCommit(dir) {
  try {
    const head = execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"]).toString().trim();
    const dirty = execFileSync("git", ["-C", dir, "status", "--porcelain", "--untracked-files=no"]).toString().trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return "not a git tree";
  }
}

/**
 * Takes the lock file atomically (O_EXCL), naming this pid. A lock whose holder is dead
 * (a crashed run) is taken over; a live holder is waited for, polling every 2 s, up to
 * --lock-wait seconds (then exit 1).
 */
async function takeLock() {
  const until = Date.now() + Number(opts["lock-wait"]) * 1000;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(LOCK, "wx");
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
    }
    let holder = 0;
    let holderWorkDir;
    try {
      [holder, holderWorkDir] = readFileSync(LOCK, "utf8").split("\n");
      holder = Number(holder || 0);
    } catch {
      continue; // removed since: try again
    }
    let alive = false;
    try {
      process.kill(holder, 0);
      alive = holder > 0;
    } catch {
      // its holder is gone
    }
    if (!alive) {
      // A crashed run's lock (or one being written this instant: then the retry sees it).
      // Its scratch directory (the test files, hundreds of MiB) goes with it.
      if (holderWorkDir?.startsWith(join(tmpdir(), "df-net-"))) rmSync(holderWorkDir, { recursive: true, force: true });
      try {
        unlinkSync(LOCK);
      } catch {
        // someone else removed it first
      }
      continue;
    }
    if (Date.now() >= until) {
      console.error(`test/net: another testbed run (pid ${holder}) holds ${LOCK}; gave up after --lock-wait ${opts["lock-wait"]} s`);
      process.exit(1);
    }
    if (!told) {
      console.log(`test/net: another testbed run (pid ${holder}) holds ${LOCK}; waiting for it (up to ${opts["lock-wait"]} s)`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function releaseLock() {
  try {
    if (Number(readFileSync(LOCK, "utf8").split("\n")[0]) === process.pid) unlinkSync(LOCK);
  } catch {
    // already gone
  }
}
