import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "./run.js";

/**
 * A reader that takes at most `bytesPerSecond` from its standard input, as a slow `tar`
 * or a slow network upload would, and prints what it got: {"bytes":…,"sha256":"…"}.
 */
const SLOW_READER = `
const { createHash } = require("node:crypto");
const rate = Number(process.argv[1]);
const hash = createHash("sha256");
const started = Date.now();
let bytes = 0;
process.stdin.on("data", (chunk) => {
  hash.update(chunk);
  bytes += chunk.length;
  const due = started + (bytes / rate) * 1000;
  const wait = due - Date.now();
  if (wait > 0) {
    process.stdin.pause();
    setTimeout(() => process.stdin.resume(), wait);
  }
});
process.stdin.on("end", () => process.stdout.write(JSON.stringify({ bytes, sha256: hash.digest("hex") })));
`;

export interface PipedRun {
  /** The writer (dfget), whose standard output is the FIFO. */
  writer: ChildProcess;
  /** The reader, whose standard input is the FIFO. */
  reader: ChildProcess;
  /** Both exited: the writer's status and signal, the reader's stdout and status. */
  done: Promise<{ writerCode: number | null; writerSignal: NodeJS.Signals | null; writerStderr: string; readerCode: number | null; readerOut: Buffer }>;
}

/**
 * Runs `node <writerBin> …writerArgs | <reader>` through a real FIFO (a kernel pipe, not
 * the socket pair node's "pipe" stdio would be), so the writer meets the same pipe
 * buffer, backpressure and EPIPE it meets under a shell. Bounded by `timeoutMs`: both
 * are killed past it.
 */
export function pipeInto(
  dir: string,
  writerBin: string,
  writerArgs: readonly string[],
  reader: { command: string; args: readonly string[] },
  timeoutMs = 120_000,
): PipedRun {
  const fifo = join(dir, `pipe-${process.hrtime.bigint()}`);
  execFileSync("mkfifo", [fifo]);
  // Non-blocking so opening the read end does not wait for a writer; the reader's own
  // stream handles EAGAIN. Then the write end opens at once.
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY);
  const readerChild = spawn(reader.command, reader.args, { stdio: [readFd, "pipe", "inherit"] });
  const writerChild = spawn(process.execPath, [`${repoRoot}${writerBin}`, ...writerArgs], { stdio: ["ignore", writeFd, "pipe"] });
  closeSync(readFd);
  closeSync(writeFd);
  let writerStderr = "";
  writerChild.stderr?.on("data", (chunk: Buffer) => (writerStderr += chunk.toString()));
  const out: Buffer[] = [];
  readerChild.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  const timer = setTimeout(() => {
    writerChild.kill("SIGKILL");
    readerChild.kill("SIGKILL");
  }, timeoutMs);
  const exited = (child: ChildProcess) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  const done = Promise.all([exited(writerChild), exited(readerChild)]).then(([w, r]) => {
    clearTimeout(timer);
    return { writerCode: w.code, writerSignal: w.signal, writerStderr, readerCode: r.code, readerOut: Buffer.concat(out) };
  });
  return { writer: writerChild, reader: readerChild, done };
}

/** A node process reading its standard input at `bytesPerSecond`, printing {"bytes","sha256"}. */
export function slowReader(bytesPerSecond: number): { command: string; args: string[] } {
  return { command: process.execPath, args: ["-e", SLOW_READER, String(bytesPerSecond)] };
}

/** Resident memory of `pid` in bytes (VmRSS), or undefined once it is gone. */
export async function rssOf(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  const kb = status?.match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/** Samples the RSS of each pid every `everyMs` until stopped; the peaks. */
export function sampleRss(pids: Record<string, number>, everyMs = 100): { stop(): Record<string, number> } {
  const peaks: Record<string, number> = Object.fromEntries(Object.keys(pids).map((name) => [name, 0]));
  const timer = setInterval(() => {
    for (const [name, pid] of Object.entries(pids)) {
      void rssOf(pid).then((rss) => {
        if (rss !== undefined && rss > (peaks[name] ?? 0)) peaks[name] = rss;
      });
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peaks;
    },
  };
}
