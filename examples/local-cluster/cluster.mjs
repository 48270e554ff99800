// Starts a df cluster as real processes on loopback and stops it again. Used by the
// main job (run.mjs), the end-to-end tests and the benchmarks, so they all exercise the
// same binaries a user runs.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeMemberCerts, memberUri, signCertificate, tlsEnv } from "./certs.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));
export const BIN = {
  manager: join(root, "packages/manager/bin/df-manager.js"),
  scheduler: join(root, "packages/scheduler/bin/df-scheduler.js"),
  dfdaemon: join(root, "packages/daemon/bin/dfdaemon.js"),
  dfget: join(root, "packages/cli/bin/dfget.js"),
  dfcache: join(root, "packages/cli/bin/dfcache.js"),
};

/**
 * Spawns a node binary and resolves once a stdout line matches `ready`; its stderr (the
 * JSON logs) goes to `logFile`. Rejects, with the log's tail, if it exits or stays
 * silent for `timeoutMs`. `uid`/`gid` run it as another user (the caller must be allowed to).
 */
export async function startProcess(name, bin, args, { ready, logFile, timeoutMs = 20_000, env, uid, gid } = {}) {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
    // Run as another user (tests of what an unprivileged daemon may not read).
    ...(uid === undefined ? {} : { uid }),
    ...(gid === undefined ? {} : { gid }),
  });
  const log = createWriteStream(logFile, { flags: "a" });
  let tail = "";
  child.stderr.on("data", (chunk) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-2000);
  });
  let buffered = "";
  const match = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not become ready within ${timeoutMs} ms; log tail:\n${tail}`));
    }, timeoutMs);
    child.stdout.on("data", (chunk) => {
      buffered += chunk.toString();
      const found = ready.exec(buffered);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready; log tail:\n${tail}`));
    });
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    name,
    match,
    child,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      log.end();
    },
    kill() {
      child.kill("SIGKILL");
      return exited;
    },
  };
}

/** dfget prints sizes in B, KiB, MiB or GiB; the sources are reported in MiB. */
const UNIT_MIB = { B: 2 ** -20, KiB: 2 ** -10, MiB: 1, GiB: 1024, TiB: 2 ** 20 };
function toMiB(amount, unit) {
  return amount * (UNIT_MIB[unit] ?? 1);
}

/** Runs dfget to completion; resolves with its exit code, stderr and the parsed byte sources. */
export function dfget(args, { timeoutMs = 300_000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN.dfget, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stderr = "";
    const stdout = [];
    child.stdout.on("data", (chunk) => stdout.push(chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      const sources = {};
      const summary = /from ([^)]*)\)\s*$/m.exec(stderr);
      for (const part of summary?.[1].split(", ") ?? []) {
        const [source, amount, unit = "MiB"] = part.split(" ");
        sources[source] = toMiB(Number(amount), unit);
      }
      resolve({ code, stderr, stdout: Buffer.concat(stdout), sources });
    });
  });
}

/** Runs dfcache to completion; resolves with its exit code, stdout and stderr. */
export function dfcache(args, { timeoutMs = 300_000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN.dfcache, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A df-manager on loopback ports (REST and gRPC on port 0, read from its ready line),
 * its embedded PGlite database in `<dir>/manager`, a fresh root password via env. Its
 * `api` signs in as root on first use and calls the REST API with JSON.
 */
export async function startManager({ dir, logLevel = "info", env, args = [], tls }) {
  const rootPassword = `df-local-${randomBytes(12).toString("base64url")}`;
  const proc = await startProcess(
    "manager",
    BIN.manager,
    ["--rest-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--data-dir", join(dir, "manager"), "--log-level", logLevel, ...args],
    // A first start creates the database (PGlite initdb): allow it time on a busy machine.
    { ready: /df-manager listening: rest=(\S+) grpc=(\S+)/, logFile: join(dir, "manager.log"), timeoutMs: 60_000, env: { ...env, ...(tls ? tlsEnv("DF_MANAGER_", tls) : {}), DF_MANAGER_ROOT_PASSWORD: rootPassword } },
  );
  const restUrl = proc.match[1];
  let token;
  const api = async (method, path, body) => {
    token ??= await signin(restUrl, rootPassword);
    const response = await fetch(`${restUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  return { process: proc, restUrl, grpc: proc.match[2], rootPassword, api };
}

async function signin(restUrl, password) {
  const response = await fetch(`${restUrl}/api/v1/users/signin`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "root", password }),
  });
  if (response.status !== 200) throw new Error(`manager sign-in failed: ${response.status} ${await response.text()}`);
  return (await response.json()).token;
}

/**
 * A scheduler, optionally a seed peer, and `peers` peers, each with its own storage,
 * socket and ports under `dir`. With `manager`, a df-manager starts first: schedulers
 * register and keep alive with it, daemons get their schedulers from it (the static
 * `--scheduler` list stays as their fallback) and the seed peer registers too.
 * With `tls`, every member runs with mTLS (`security.tls`): a CA and a certificate per
 * member (spiffe://df/<role>/<host-id>) are made with openssl in `<dir>/tls`.
 * Returns their addresses and a stop function.
 */
export async function startCluster({ dir, peers = 3, seed = true, schedulers = 1, manager = false, logLevel = "info", daemonArgs = [], schedulerArgs = [], env, tls = false }) {
  await mkdir(dir, { recursive: true });
  const started = [];
  const certs = tls
    ? await makeMemberCerts(join(dir, "tls"), [
        { name: "manager", role: "manager", hostId: "manager" },
        ...Array.from({ length: schedulers }, (_, i) => ({ name: `scheduler-${i + 1}`, role: "scheduler", hostId: `scheduler-${i + 1}` })),
      ])
    : undefined;
  // A daemon's certificate names its host ID ({ip}-{hostname}, plus -seed for a seed peer).
  const daemonTls = async (name, isSeed) => {
    if (!certs) return {};
    const signed = await signCertificate(join(dir, "tls"), name, "ca", ["IP:127.0.0.1", `URI:${memberUri(isSeed ? "seed" : "peer", `127.0.0.1-${name}${isSeed ? "-seed" : ""}`)}`]);
    return tlsEnv("DF_DAEMON_", { ca: certs.ca, ...signed });
  };
  try {
    const managed = manager ? await startManager({ dir, logLevel, env, ...(certs ? { tls: certs.members.manager } : {}) }) : undefined;
    if (managed) started.push(managed.process);
    const managerFlags = managed ? ["--manager", managed.grpc] : [];
    // Several schedulers share the tasks by consistent hash; every daemon knows them all.
    const settled = await Promise.allSettled(
      Array.from({ length: schedulers }, (_, i) =>
        startProcess(
          i === 0 ? "scheduler" : `scheduler-${i + 1}`,
          BIN.scheduler,
          [
            "--config", join(here, "scheduler.yaml"),
            "--listen", "127.0.0.1:0",
            "--metrics-listen", managed ? "127.0.0.1:0" : "",
            "--log-level", logLevel,
            // Schedulers on one machine need distinct names in the manager.
            ...(managed ? [...managerFlags, "--hostname", `scheduler-${i + 1}`] : []),
            ...schedulerArgs,
          ],
          {
            ready: /df-scheduler listening on (\S+)(?: metrics=(\S+))?/,
            logFile: join(dir, i === 0 ? "scheduler.log" : `scheduler-${i + 1}.log`),
            env: { ...env, ...(certs ? tlsEnv("DF_SCHEDULER_", certs.members[`scheduler-${i + 1}`]) : {}) },
          },
        ),
      ),
    );
    // Keep the ones that started, so a failure below still stops them.
    const schedulerProcesses = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    started.push(...schedulerProcesses);
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const scheduler = schedulerProcesses[0];
    const schedulerAddress = scheduler.match[1];
    const schedulerFlags = schedulerProcesses.flatMap((p) => ["--scheduler", p.match[1]]);
    const startDaemon = async (name, isSeed) => {
      const proc = await startProcess(
        name,
        BIN.dfdaemon,
        [
          "--config", join(here, isSeed ? "seed.yaml" : "peer.yaml"),
          ...(isSeed ? ["--seed"] : []),
          ...schedulerFlags,
          ...managerFlags,
          "--storage-dir", join(dir, name, "storage"),
          "--socket", join(dir, name, "dfdaemon.sock"),
          "--upload-listen", "127.0.0.1:0",
          "--bytes-listen", "127.0.0.1:0",
          "--metrics-listen", "",
          "--hostname", name,
          "--ip", "127.0.0.1",
          "--log-level", logLevel,
          ...daemonArgs,
        ],
        { ready: /dfdaemon ready: socket=(\S+) upload=(\S+) bytes=(\S+) host=(\S+)/, logFile: join(dir, `${name}.log`), env: { ...env, ...(await daemonTls(name, isSeed)) } },
      );
      started.push(proc);
      return { name, process: proc, socket: proc.match[1], upload: proc.match[2], bytes: proc.match[3], hostId: proc.match[4], logFile: join(dir, `${name}.log`) };
    };
    const seedPeer = seed ? await startDaemon("seed-1", true) : undefined;
    const peerList = await Promise.all(Array.from({ length: peers }, (_, i) => startDaemon(`peer-${i + 1}`, false)));
    const schedulerOf = (p, i) => ({
      process: p,
      address: p.match[1],
      ...(p.match[2] ? { metricsUrl: p.match[2] } : {}),
      logFile: join(dir, i === 0 ? "scheduler.log" : `scheduler-${i + 1}.log`),
    });
    return {
      dir,
      ...(certs ? { certs } : {}),
      manager: managed,
      scheduler: schedulerOf(scheduler, 0),
      schedulers: schedulerProcesses.map(schedulerOf),
      seed: seedPeer,
      peers: peerList,
      startDaemon,
      async stop() {
        await Promise.all(started.reverse().map((p) => p.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((p) => p.stop()));
    throw error;
  }
}
