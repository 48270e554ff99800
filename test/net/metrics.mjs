// The figures of a run: the physical bound, completion statistics, the byte-counter and
// machine-CPU sampler, and the output hash check.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { readCounters } from "./netns.mjs";

/**
 * The lower bound on the time for N peers to all hold a file of F bytes (Kumar & Ross):
 * max(F/u_s, F/d_min, N·F/(u_s + Σu_i)), with u_s the uplink of whoever holds the file
 * first, d_min the slowest peer downlink, Σu_i the peers' uplinks (bits/s). With peers
 * arriving staggered, the last one cannot finish before it starts plus F/d_min.
 */
export function physicalBound({ fileBytes, us, peerUps, peerDowns, lastStart = 0 }) {
  const F = fileBytes * 8;
  const n = peerUps.length;
  const terms = {
    "F/u_s": F / us,
    "F/d_min": F / Math.min(...peerDowns),
    "N·F/(u_s+Σu_i)": (n * F) / (us + peerUps.reduce((a, b) => a + b, 0)),
  };
  let seconds = Math.max(...Object.values(terms));
  if (lastStart > 0) {
    terms["last start + F/d_min"] = lastStart + F / Math.min(...peerDowns);
    seconds = Math.max(seconds, terms["last start + F/d_min"]);
  }
  return { seconds, terms };
}

export function percentile(values, p) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  // nearest rank: p50 of 8 values is the 4th, so it is always a measured value
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** SHA-256 of a file, hex. */
export async function sha256File(path) {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk);
  return hash.digest("hex");
}

async function machineCpu() {
  const line = (await readFile("/proc/stat", "utf8")).split("\n")[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  return { total: f.reduce((a, b) => a + b, 0), idle };
}

/**
 * Samples every host's byte counters (from the bridge side) and the machine's CPU use
 * every `intervalMs` until stopped. Samples are { t (s since start), hosts: { name:
 * { up, down } } (bytes since start), cpuBusy (0..1 of all cores since the last sample) }.
 */
export function startSampler(testbed, intervalMs = 500) {
  const samples = [];
  const t0 = performance.now();
  let base;
  let lastCpu;
  let stopped = false;
  const tick = async () => {
    const [counters, cpu] = await Promise.all([readCounters(testbed), machineCpu()]);
    base ??= counters;
    const hosts = {};
    for (const [name, c] of Object.entries(counters)) hosts[name] = { up: c.up - (base[name]?.up ?? 0), down: c.down - (base[name]?.down ?? 0) };
    const cpuBusy = lastCpu ? 1 - (cpu.idle - lastCpu.idle) / Math.max(1, cpu.total - lastCpu.total) : undefined;
    lastCpu = cpu;
    samples.push({ t: Math.round(performance.now() - t0) / 1000, hosts, ...(cpuBusy === undefined ? {} : { cpuBusy: Math.round(cpuBusy * 1000) / 1000 }) });
  };
  let timer;
  const loop = async () => {
    if (stopped) return;
    try {
      await tick();
    } catch {
      // a sample missed (the namespace going away at the end): the next one counts
    }
    if (!stopped) timer = setTimeout(loop, intervalMs);
  };
  const first = loop();
  return {
    samples,
    startedAt: t0,
    async stop() {
      await first;
      stopped = true;
      clearTimeout(timer);
      await tick().catch(() => {});
      return samples;
    },
  };
}

/**
 * Mean machine CPU use (0..1 of all cores) over the samples from `from` to `to` seconds
 * (the downloads' window: the daemons' start-up before it is not what limits them).
 */
export function meanCpuBusy(samples, from = -Infinity, to = Infinity) {
  const values = samples.filter((s) => s.t > from && s.t <= to + 0.5).map((s) => s.cpuBusy).filter((v) => v !== undefined);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

/** Peak upload rate (bits/s over one sample interval) per host, and the total bytes. */
export function linkUse(samples) {
  const out = {};
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i].t - samples[i - 1].t;
    if (dt <= 0) continue;
    for (const [name, c] of Object.entries(samples[i].hosts)) {
      const prev = samples[i - 1].hosts[name] ?? { up: 0, down: 0 };
      const o = (out[name] ??= { peakUpBps: 0, peakDownBps: 0, upBytes: 0, downBytes: 0 });
      o.peakUpBps = Math.max(o.peakUpBps, ((c.up - prev.up) * 8) / dt);
      o.peakDownBps = Math.max(o.peakDownBps, ((c.down - prev.down) * 8) / dt);
    }
  }
  const last = samples.at(-1);
  for (const [name, c] of Object.entries(last?.hosts ?? {})) {
    const o = (out[name] ??= { peakUpBps: 0, peakDownBps: 0 });
    o.upBytes = c.up;
    o.downBytes = c.down;
  }
  return out;
}
