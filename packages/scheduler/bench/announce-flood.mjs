// An announce flood from one caller address against the real scheduler (its CLI, in a
// process of its own, on loopback), and how fast it keeps answering honest peers.
//
// Three processes: the scheduler; a flooder calling from 127.0.0.1 with
// `--flood-concurrency` calls in flight at all times (new hosts, 1 TiB AnnounceTasks,
// AnnouncePeer registers of new tasks); and this one, the honest side, calling from
// 127.0.0.2 (through a TCP forwarder in this process: grpc-js cannot pick a source
// address, and the forwarder costs the light side least): every 10 ms one AnnounceHost
// or one AnnouncePeer register (a new peer of a shared task, answered with parents),
// timed from the call to its answer. All three share this machine's cores, so the
// flooder's own CPU weighs on the others as a remote attacker's would not: the
// scheduler's CPU use is printed too. Phases: no flood; flood with the default limits;
// and flood with the announce rate limit lifted (limits.announceRate = 1e9), to show
// what the limit buys. Each phase runs `--rounds` times on a fresh scheduler and the
// medians are printed.
//
//   node packages/scheduler/bench/announce-flood.mjs [--short] [--seconds=10] [--rounds=3] [--nice-flooder]
//
// Figures at 2026-12-07 (2 shared cores, load average ~4 from other work; medians of 3
// rounds of 8 s; honest p50 / p99 in ms, flood accepted + refused per second, scheduler
// CPU in cores):
//   no flood                               3.1 /  14.0                    0.23
//   flood (nice 19), limits in force       3.3 / 102.7   242 + 130/s      0.43
//   flood (nice 19), no announce limit     3.1 /  73.5   515/s            0.43
//   flood (equal priority), limits         39.9 / 205.0  242 + 288/s      0.55
//   flood (equal priority), no limit       26.0 / 182.5  542/s            0.47
// The announce limit caps what one address gets accepted (200/s plus the burst), but a
// refusal costs the scheduler about what an acceptance does (gRPC's per-call work
// dominates), so the honest tail under a flood is not shorter with it: p99 ≤ 50 ms under
// a flood is not met on this machine.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { bidiStream, common, createRpcClient, scheduler as s, unary } from "@df/rpc";

const args = process.argv.slice(2);
const option = (name, fallback) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const short = args.includes("--short");
const seconds = option("seconds", short ? 3 : 10);
const rounds = option("rounds", short ? 1 : 3);
const concurrency = option("flood-concurrency", 64);
// The flooder at the lowest CPU priority stands for an attacker on another machine: its
// own work then no longer takes this machine's cores from the scheduler at equal share.
const niceFlooder = args.includes("--nice-flooder");
const here = fileURLToPath(new URL(".", import.meta.url));

const HONEST_HOSTS = 50;
const host = (id, ip = "127.0.0.1") => common.Host.create({ id, hostname: id, ip, port: 4000, downloadPort: 4001, concurrentUploadLimit: 1000 });
const download = (url) => common.Download.create({ url });

/** One AnnouncePeer register: open the stream, send register, wait for the answer, close. */
async function register(client, hostId, taskId, peerId, url) {
  const call = bidiStream(client, "announcePeer");
  try {
    await call.write(s.AnnouncePeerRequest.create({ hostId, taskId, peerId, request: { $case: "register", value: { download: download(url) } } }));
    const next = await call.next();
    if (next.done) throw new Error("the stream ended without an answer");
    return next.value;
  } finally {
    call.cancel();
  }
}

/** A TCP forwarder on 127.0.0.1 that reaches `target` from `sourceIp` (grpc-js cannot pick a source address). */
async function fromSource(target, sourceIp) {
  const [targetHost, targetPort] = target.split(":");
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host: targetHost, port: Number(targetPort), localAddress: sourceIp });
    // Nagle against delayed ACKs would add ~40 ms to small request/answer pairs.
    inbound.setNoDelay(true);
    outbound.setNoDelay(true);
    const drop = () => (inbound.destroy(), outbound.destroy());
    inbound.on("error", drop);
    outbound.on("error", drop);
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${server.address().port}`, close: () => server.close() };
}

async function flood(target, ms) {
  const client = createRpcClient(s.SchedulerClient, target);
  const counts = { accepted: 0, refused: 0, other: 0 };
  const until = performance.now() + ms;
  let n = 0;
  await unary(client, "announceHost", s.AnnounceHostRequest.create({ host: host("flood-home"), intervalMs: 60_000 })).catch(() => {});
  const one = async () => {
    const i = n++;
    switch (i % 3) {
      case 0:
        return unary(client, "announceHost", s.AnnounceHostRequest.create({ host: host(`flood-${i}`), intervalMs: 60_000 }));
      case 1:
        return unary(
          client,
          "announceTask",
          s.AnnounceTaskRequest.create({ hostId: "flood-home", taskId: `flood-task-${i}`, peerId: `flood-peer-${i}`, download: download(`http://o/${i}`), contentLength: 2 ** 40, pieceLength: 4 * 2 ** 20, pieceCount: 262_144 }),
        );
      default:
        return register(client, "flood-home", `flood-reg-${i}`, `flood-reg-peer-${i}`, `http://o/r${i}`);
    }
  };
  const worker = async () => {
    while (performance.now() < until) {
      await one().then(
        () => counts.accepted++,
        (error) => (error?.code === "RESOURCE_EXHAUSTED" ? counts.refused++ : counts.other++),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  client.close();
  process.stdout.write(`${JSON.stringify(counts)}\n`);
}

/** Children are killed when this process exits, however it exits. */
const children = new Set();
function track(child) {
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

async function startScheduler(env) {
  const child = track(spawn(process.execPath, [`${here}../bin/df-scheduler.js`, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--log-level", "error"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  }));
  const address = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /df-scheduler listening on (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.on("exit", (code) => reject(new Error(`df-scheduler exited with ${code}`)));
  });
  return { address, pid: child.pid, stop: () => new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGTERM"))) };
}

/** CPU milliseconds a process has used (user + system), from /proc (Linux). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function quantile(sorted, q) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function phase(name, { flooding, env = {} }) {
  const scheduler = await startScheduler(env);
  const forwarder = await fromSource(scheduler.address, "127.0.0.2");
  const client = createRpcClient(s.SchedulerClient, forwarder.address);
  // A task with one holder, so that each honest register is answered with a parent.
  await unary(client, "announceHost", s.AnnounceHostRequest.create({ host: host("holder"), intervalMs: 60_000 }));
  // Honest registers rotate over many hosts, as a fleet's would: the scheduler damps a host's overlapping registers.
  for (let h = 0; h < HONEST_HOSTS; h++) await unary(client, "announceHost", s.AnnounceHostRequest.create({ host: host(`honest-${h}`), intervalMs: 60_000 }));
  await unary(
    client,
    "announceTask",
    s.AnnounceTaskRequest.create({ hostId: "holder", taskId: "shared", peerId: "holder-peer", download: download("http://o/shared"), contentLength: 2 ** 30, pieceLength: 4 * 2 ** 20, pieceCount: 256 }),
  );
  // Warm up the scheduler's code paths before anything is timed.
  for (let i = 0; i < 100; i++) {
    await register(client, `honest-${i % HONEST_HOSTS}`, "shared", `warm-${i}`, "http://o/shared");
    await unary(client, "announceHost", s.AnnounceHostRequest.create({ host: host(`honest-${i % HONEST_HOSTS}`), intervalMs: 60_000 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const flooder = flooding
    ? track(spawn(niceFlooder ? "nice" : process.execPath, [...(niceFlooder ? ["-n", "19", process.execPath] : []), fileURLToPath(import.meta.url), "--flooder", scheduler.address, String(seconds * 1000 + 1000), `--flood-concurrency=${concurrency}`], {
        stdio: ["ignore", "pipe", "inherit"],
      }))
    : undefined;
  let floodOut = "";
  flooder?.stdout.on("data", (chunk) => (floodOut += chunk));
  const flooderDone = flooder ? new Promise((resolve) => flooder.on("exit", resolve)) : Promise.resolve();
  if (flooder) await new Promise((resolve) => setTimeout(resolve, 500));
  const cpuAtStart = cpuMs(scheduler.pid);
  const latencies = { host: [], register: [] };
  const failures = [];
  const until = performance.now() + seconds * 1000;
  const inFlight = [];
  for (let i = 0; performance.now() < until; i++) {
    const started = performance.now();
    const kind = i % 2 === 0 ? "host" : "register";
    const call =
      kind === "host"
        ? unary(client, "announceHost", s.AnnounceHostRequest.create({ host: host(`honest-${i % HONEST_HOSTS}`), intervalMs: 60_000 }))
        : register(client, `honest-${i % HONEST_HOSTS}`, "shared", `honest-${name}-${i}`, "http://o/shared");
    inFlight.push(call.then(() => latencies[kind].push(performance.now() - started), (error) => failures.push(`${kind}: ${error.code ?? ""} ${error.message}`)));
    const wait = started + 10 - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(inFlight);
  const schedulerCpu = (cpuMs(scheduler.pid) - cpuAtStart) / seconds / 1000;
  await flooderDone;
  client.close();
  forwarder.close();
  await scheduler.stop();
  const all = [...latencies.host, ...latencies.register].sort((a, b) => a - b);
  for (const list of Object.values(latencies)) list.sort((a, b) => a - b);
  const flood = floodOut ? JSON.parse(floodOut) : undefined;
  return {
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    hostP99: quantile(latencies.host, 0.99),
    registerP99: quantile(latencies.register, 0.99),
    calls: all.length,
    schedulerCpu,
    failures: failures.length,
    firstFailure: failures[0],
    floodAccepted: flood ? flood.accepted / (seconds + 1) : undefined,
    floodRefused: flood ? flood.refused / (seconds + 1) : undefined,
  };
}

if (args[0] === "--flooder") {
  await flood(args[1], Number(args[2]));
  process.exit(0);
}

const median = (values) => {
  const sorted = values.filter((v) => v !== undefined && !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted.length === 0 ? undefined : sorted[Math.floor(sorted.length / 2)];
};
const phases = {
  "no flood": { flooding: false },
  "flood, limits in force": { flooding: true },
  "flood, no announce rate limit": { flooding: true, env: { DF_SCHEDULER_LIMITS__ANNOUNCE_RATE: "1000000000", DF_SCHEDULER_LIMITS__ANNOUNCE_BURST: "1000000000" } },
};
const results = Object.fromEntries(Object.keys(phases).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, options] of Object.entries(phases)) {
    const result = await phase(name, options);
    results[name].push(result);
    console.error(`round ${round + 1} ${name}: ${JSON.stringify(result)}`);
  }
}
const fmt = (v, digits = 1) => (v === undefined ? "-" : v.toFixed(digits));
console.log(`\nhonest AnnounceHost + AnnouncePeer register every 10 ms from 127.0.0.2; flood from 127.0.0.1 with ${concurrency} calls in flight${niceFlooder ? " (nice 19)" : ""}; ${seconds} s per phase, median of ${rounds} round(s)`);
console.log("phase                            honest p50 ms  p99 ms  host p99  register p99  honest failed  flood accepted/s  flood refused/s  scheduler CPU (cores)");
for (const [name, list] of Object.entries(results)) {
  const m = (key) => median(list.map((r) => r[key]));
  console.log(
    `${name.padEnd(32)} ${fmt(m("p50")).padStart(13)} ${fmt(m("p99")).padStart(7)} ${fmt(m("hostP99")).padStart(9)} ${fmt(m("registerP99")).padStart(13)} ${fmt(m("failures"), 0).padStart(14)} ${fmt(m("floodAccepted"), 0).padStart(17)} ${fmt(m("floodRefused"), 0).padStart(16)} ${fmt(m("schedulerCpu"), 2).padStart(22)}`,
  );
}
