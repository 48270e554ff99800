// Processes inside a host's namespace, and the CPU each one used. Every process the
// testbed starts goes through here, so each is registered for teardown and its CPU time
// is charged to its host.
//
// `ip netns exec` execs the command in place (no fork), so the pid we get is the
// command's own: /proc/<pid>/stat of a long-lived process is its CPU. A short-lived one
// (dfget, curl) is gone before we could read it, so it runs under `bash -c` whose
// `times` builtin prints the CPU of its waited-for children on fd 3 as it ends.
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { IP } from "./netns.mjs";

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** Every process started and not yet stopped: teardown kills what is left. */
const live = new Set();

/** Kills (SIGKILL, whole process group) everything still registered. */
export function killAll() {
  for (const child of live) killGroup(child, "SIGKILL");
  live.clear();
}

function killGroup(child, signal) {
  try {
    // detached: the child leads its own group; the group takes bash and its command.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // gone
    }
  }
}

/** CPU seconds (user + system, its waited-for children included) of a running process. */
export async function cpuOfPid(pid) {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return (utime + stime + cutime + cstime) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Starts a long-lived command in namespace `ns`; resolves once a stdout line matches
 * `ready` (like examples/local-cluster's startProcess). Its stdout and stderr go to
 * `logFile`. Rejects, with the log's tail, if it exits first or stays silent `timeoutMs`.
 */
export async function startIn(ns, name, cmd, args, { ready, logFile, timeoutMs = 30_000, env, cwd } = {}) {
  const child = spawn(IP, ["netns", "exec", ns, cmd, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
    cwd,
    detached: true,
  });
  live.add(child);
  const log = createWriteStream(logFile, { flags: "a" });
  let tail = "";
  let buffered = "";
  const onOut = (chunk) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-3000);
  };
  child.stderr.on("data", onOut);
  child.stdout.on("data", onOut);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  exited.then(() => live.delete(child));
  let match;
  if (ready) {
    match = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        killGroup(child, "SIGKILL");
        reject(new Error(`${name} did not become ready within ${timeoutMs} ms; output tail:\n${tail}`));
      }, timeoutMs);
      const onData = (chunk) => {
        buffered = (buffered + chunk.toString()).slice(-8000);
        const found = ready.exec(buffered);
        if (found) {
          clearTimeout(timer);
          child.stdout.off("data", onData);
          resolve(found);
        }
      };
      child.stdout.on("data", onData);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${signal ?? code}) before it was ready; output tail:\n${tail}`));
      });
    });
  }
  let lastCpu = 0;
  return {
    name,
    ns,
    child,
    match,
    exited,
    /** Lines written to stdout from now on, for the caller's own parsing. */
    onLine(fn) {
      let rest = "";
      child.stdout.on("data", (chunk) => {
        rest += chunk.toString();
        const lines = rest.split("\n");
        rest = lines.pop();
        for (const line of lines) fn(line);
      });
    },
    tail: () => tail,
    /** CPU seconds so far; the last reading is kept once the process is gone. */
    async cpu() {
      const now = await cpuOfPid(child.pid);
      if (now !== undefined) lastCpu = now;
      return lastCpu;
    },
    /** Reads its CPU, then SIGTERM (SIGKILL after `graceMs`); resolves with the CPU seconds. */
    async stop(graceMs = 5000) {
      const cpu = await this.cpu();
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
        // Bounded even if SIGKILL does not end it (stuck in the kernel): teardown's sweep
        // of the namespace deals with it then.
        let giveUp;
        await Promise.race([exited, new Promise((r) => (giveUp = setTimeout(r, graceMs + 5000)))]);
        clearTimeout(timer);
        clearTimeout(giveUp);
      }
      await new Promise((resolve) => log.end(resolve));
      return cpu;
    },
  };
}

/**
 * Runs a command to its end in namespace `ns`, killed (whole group) after `timeoutMs`.
 * Resolves with { code, signal, timedOut, stdout, stderr, cpu, started, ended } where cpu
 * is the command's user+system seconds (bash's `times`, children line) and
 * started/ended are performance.now() values taken around the process.
 */
export function runIn(ns, cmd, args, { timeoutMs, env, cwd, keepStdout = true } = {}) {
  return new Promise((resolve, reject) => {
    const script = '"$@"; rc=$?; times >&3; exit $rc';
    const started = performance.now();
    const child = spawn(IP, ["netns", "exec", ns, "bash", "-c", script, "bash", cmd, ...args], {
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      env: { ...process.env, ...env },
      cwd,
      detached: true,
    });
    live.add(child);
    const stdout = [];
    let stderr = "";
    let times = "";
    child.stdout.on("data", (chunk) => keepStdout && stdout.push(chunk));
    child.stderr.on("data", (chunk) => (stderr = (stderr + chunk.toString()).slice(-20000)));
    child.stdio[3].on("data", (chunk) => (times += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, "SIGKILL");
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      live.delete(child);
      reject(error);
    });
    child.once("close", (code, signal) => {
      const ended = performance.now();
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, timedOut, stdout: Buffer.concat(stdout), stderr, cpu: parseTimes(times), started, ended });
    });
  });
}

/** bash `times`: "0m0.004s 0m0.001s\n1m2.345s 0m0.678s\n"; the second line is the children's. */
function parseTimes(text) {
  const lines = text.trim().split("\n");
  const line = lines[1];
  if (!line) return undefined;
  let total = 0;
  for (const [, minutes, seconds] of line.matchAll(/(\d+)m([\d.]+)s/g)) total += Number(minutes) * 60 + Number(seconds);
  return total;
}
