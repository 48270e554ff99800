// The testbed's network: one network namespace per host, all on one bridge that lives in
// a namespace of its own, each host's link shaped with tc (htb with a byte FIFO leaf, one
// per direction). Nothing here has an address in the root namespace: the root namespace
// gets a blackhole route for the test subnet instead, so a command run outside the
// namespaces by mistake fails at once rather than leaving the machine.
//
//   root ns:    blackhole 10.77.0.0/24
//   <p>-sw:     br0 ─┬─ vb-origin ══ eth0 (<p>-origin, 10.77.0.1)
//                    ├─ vb-sched  ══ eth0 (<p>-sched,  10.77.0.2)
//                    └─ vb-p1     ══ eth0 (<p>-p1,     10.77.0.11) …
//
// A host's upload is the egress of its own eth0; its download is the egress of vb-<host>
// on the bridge side. Both are shaped the same way (htb class at the link rate, bfifo
// leaf of `queueMs` worth of bytes), so the links behave like a switch port with a
// buffer, not like loopback.
import { execFile, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);
/** Absolute paths: a non-login root shell may not have /usr/sbin on PATH. */
export const IP = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].find(exists) ?? "ip";
export const TC = ["/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc"].find(exists) ?? "tc";

function exists(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

async function sh(cmd, args, { ignoreError = false } = {}) {
  try {
    const { stdout } = await run(cmd, args, { timeout: 20_000, maxBuffer: 16 * 2 ** 20 });
    return stdout;
  } catch (error) {
    if (ignoreError) return "";
    throw new Error(`${cmd} ${args.join(" ")} failed: ${(error.stderr || error.message).trim()}`);
  }
}

/** Names of network namespaces that start with `prefix-`. */
export async function listNamespaces(prefix) {
  const out = await sh(IP, ["netns", "list"], { ignoreError: true });
  return out
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter((name) => name.startsWith(`${prefix}-`));
}

/**
 * Removes every namespace of `prefix` with everything in it: processes still running in
 * one are killed first (a namespace with live processes would survive `ip netns del`,
 * and with it the veths and the bridge), then the namespaces, then the blackhole route.
 * Used at start (leftovers of a crashed run) and at teardown. Returns what it removed.
 */
export async function sweep(prefix, subnet) {
  const removed = [];
  const namespaces = await listNamespaces(prefix);
  for (const ns of namespaces) {
    const pids = (await sh(IP, ["netns", "pids", ns], { ignoreError: true })).split(/\s+/).filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
        removed.push(`process ${pid} in ${ns}`);
      } catch {
        // already gone
      }
    }
  }
  // Give the kernel a moment to reap the killed processes, or the namespace stays busy.
  if (removed.length > 0) await new Promise((r) => setTimeout(r, 300));
  for (const ns of namespaces) {
    await sh(IP, ["netns", "del", ns], { ignoreError: true });
    removed.push(`namespace ${ns}`);
  }
  const routes = await sh(IP, ["route", "show", "type", "blackhole"], { ignoreError: true });
  if (routes.split("\n").some((line) => line.trim().split(/\s+/).includes(subnet.cidr))) {
    await sh(IP, ["route", "del", "blackhole", subnet.cidr], { ignoreError: true });
    removed.push(`blackhole route ${subnet.cidr}`);
  }
  return removed;
}

/** Exits 2 with a clear message unless this process is root. */
export function rootOrExit() {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) needRoot("not running as root");
}

function needRoot(why) {
  console.error(`test/net needs root and working network namespaces (ip netns, veth, bridge, tc htb): ${why}`);
  console.error("run it as root on Linux, e.g. sudo node test/net/run.mjs --short (scripts/ci/net-tools.sh installs the tools)");
  process.exit(2);
}

/**
 * Probes what the testbed needs in a throwaway namespace (exits 2 when it fails) and
 * whether the kernel has netem.
 */
export async function requireRoot(prefix) {
  const fail = needRoot;
  rootOrExit();
  const probe = `${prefix}-probe`;
  await sh(IP, ["netns", "del", probe], { ignoreError: true });
  try {
    await sh(IP, ["netns", "add", probe]);
  } catch (error) {
    fail(error.message);
  }
  try {
    await sh(IP, ["-n", probe, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"]);
    await sh(TC, ["-n", probe, "qdisc", "add", "dev", "probe0", "root", "handle", "1:", "htb", "default", "1"]);
  } catch (error) {
    await sh(IP, ["netns", "del", probe], { ignoreError: true });
    fail(error.message);
  }
  // netem (delay, loss) is a module this kernel may lack: probe it, never assume it.
  const netem = await sh(TC, ["-n", probe, "qdisc", "add", "dev", "probe1", "root", "netem", "delay", "1ms"]).then(
    () => true,
    () => false,
  );
  await sh(IP, ["netns", "del", probe], { ignoreError: true });
  return { netem };
}

/**
 * IPv4 only: with IPv6 on, every veth would get a link-local address and send router
 * and neighbour solicitations over the bridge, and dual-stack programs (aria2c) would
 * open IPv6 sockets too. Off in a namespace before its interfaces exist (a new
 * namespace takes `default`; `all` covers lo). Written under /proc/sys from inside the
 * namespace, so no sysctl binary is needed.
 */
async function noIpv6(ns) {
  await sh(IP, ["netns", "exec", ns, "sh", "-c",
    "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"]);
}

/** bits per second → tc's unit, exactly. */
const tcRate = (bps) => `${Math.round(bps)}bit`;

/**
 * Shapes `dev` (in namespace `ns`) to `bps`: htb class at that rate (ceil the same, so it
 * never borrows), its leaf a byte FIFO holding `queueMs` of traffic (at least two
 * 64 KiB GSO packets, which veth hands to the qdisc whole). With `netem` (only when the
 * kernel has it) the leaf is netem instead, adding delay/loss with a packet limit of the
 * same size.
 */
async function shape(ns, dev, bps, { queueMs, delayMs = 0, lossPct = 0 }) {
  const queueBytes = Math.max(2 * 65536, Math.round((bps / 8) * (queueMs / 1000)));
  await sh(TC, ["-n", ns, "qdisc", "replace", "dev", dev, "root", "handle", "1:", "htb", "default", "1"]);
  // quantum only matters between sibling classes; set it so tc does not warn about
  // rate/r2q at 1 Gbit/s. burst: enough for a GSO packet, so htb does not cap below rate.
  await sh(TC, ["-n", ns, "class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb",
    "rate", tcRate(bps), "ceil", tcRate(bps), "burst", "64k", "cburst", "64k", "quantum", "60000"]);
  if (delayMs > 0 || lossPct > 0) {
    const netemArgs = ["limit", String(Math.ceil(queueBytes / 1500))];
    if (delayMs > 0) netemArgs.push("delay", `${delayMs}ms`);
    if (lossPct > 0) netemArgs.push("loss", `${lossPct}%`);
    await sh(TC, ["-n", ns, "qdisc", "add", "dev", dev, "parent", "1:1", "handle", "10:", "netem", ...netemArgs]);
  } else {
    await sh(TC, ["-n", ns, "qdisc", "add", "dev", dev, "parent", "1:1", "handle", "10:", "bfifo", "limit", String(queueBytes)]);
  }
  return queueBytes;
}

/**
 * Builds the testbed. `hosts` is a list of { name, ip, up, down } (bits per second).
 * Returns { hosts: Map name → { name, ns, ip, up, down }, exec, counters, teardown }.
 * On any failure what was made so far is removed before the error is thrown.
 */
export async function createTestbed({ prefix, subnet, hosts, queueMs = 50, delayMs = 0, lossPct = 0 }) {
  const sw = `${prefix}-sw`;
  let holder;
  const testbed = {
    prefix,
    subnet,
    switchNs: sw,
    hosts: new Map(),
    queueMs,
    async teardown() {
      holder?.kill("SIGKILL");
      return sweep(prefix, subnet);
    },
  };
  try {
    await sh(IP, ["route", "replace", "blackhole", subnet.cidr]);
    await sh(IP, ["netns", "add", sw]);
    await noIpv6(sw);
    await sh(IP, ["-n", sw, "link", "set", "lo", "up"]);
    await sh(IP, ["-n", sw, "link", "add", "br0", "type", "bridge"]);
    await sh(IP, ["-n", sw, "link", "set", "br0", "up"]);
    for (const host of hosts) {
      const ns = `${prefix}-${host.name}`;
      const port = `vb-${host.name}`;
      await sh(IP, ["netns", "add", ns]);
      await noIpv6(ns);
      await sh(IP, ["-n", ns, "link", "set", "lo", "up"]);
      // Made inside the switch namespace with its peer straight in the host's: the pair
      // never exists in the root namespace, not even for a moment.
      await sh(IP, ["-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      await sh(IP, ["-n", sw, "link", "set", port, "master", "br0", "up"]);
      await sh(IP, ["-n", ns, "addr", "add", `${host.ip}/${subnet.bits}`, "dev", "eth0"]);
      await sh(IP, ["-n", ns, "link", "set", "eth0", "up"]);
      const shaping = { queueMs, delayMs, lossPct };
      const upQueue = await shape(ns, "eth0", host.up, shaping);
      const downQueue = await shape(sw, port, host.down, shaping);
      testbed.hosts.set(host.name, { ...host, ns, port, upQueue, downQueue });
    }
    // A process that only sleeps in the switch namespace: /proc/<pid>/net/dev then shows
    // that namespace's counters, read every half second without spawning anything.
    holder = spawn(IP, ["netns", "exec", sw, "sleep", "86400"], { stdio: "ignore" });
    testbed.holderPid = holder.pid;
    await new Promise((r) => setTimeout(r, 100));
    return testbed;
  } catch (error) {
    holder?.kill("SIGKILL");
    await sweep(prefix, subnet);
    throw error;
  }
}

/**
 * Reads every host's byte counters from the bridge side: rx of vb-<host> is what the
 * host uploaded, tx what it downloaded. Returns { [host]: { up, down } } in bytes.
 */
export async function readCounters(testbed) {
  const text = await readFile(`/proc/${testbed.holderPid}/net/dev`, "utf8");
  const out = {};
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!rest || !name.trim().startsWith("vb-")) continue;
    const fields = rest.trim().split(/\s+/).map(Number);
    out[name.trim().slice(3)] = { up: fields[0], down: fields[8] };
  }
  return out;
}

/** tc's own view of every shaped link (sent bytes, drops, overlimits), for the JSON. */
export async function tcStats(testbed) {
  const out = {};
  for (const [name, host] of testbed.hosts) {
    const up = await sh(TC, ["-n", host.ns, "-s", "qdisc", "show", "dev", "eth0"], { ignoreError: true });
    const down = await sh(TC, ["-n", testbed.switchNs, "-s", "qdisc", "show", "dev", host.port], { ignoreError: true });
    out[name] = { up: dropsOf(up), down: dropsOf(down) };
  }
  return out;
}

function dropsOf(text) {
  // The leaf (bfifo/netem) line is the last "Sent" block; it holds the drops of the queue.
  const blocks = [...text.matchAll(/Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/g)];
  const leaf = blocks.at(-1);
  return leaf ? { sentBytes: Number(leaf[1]), packets: Number(leaf[2]), dropped: Number(leaf[3]) } : undefined;
}
