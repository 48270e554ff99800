// Fuzz test of issue 14: every gRPC method of every service (scheduler, manager fleet,
// dfdaemon upload and download) gets random and malformed protobuf payloads, and every
// REST route of the manager gets random bodies, from a caller that may or may not be
// signed in. Nothing may crash, answer INTERNAL/UNKNOWN (gRPC) or 5xx (REST), or grow a
// process's memory without bound; an honest download still works afterwards. The
// payloads come from a seeded generator: a failure names the seed (DF_FUZZ_SEED reruns it).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateContent, startOriginServer, type OriginServer } from "@df/compliance-tests";
import { createRpcClient, daemonDownload, daemonUpload, manager, scheduler } from "@df/rpc";
import { dfget, startCluster, type Cluster, type ManagedProcess } from "@df/example-local-cluster/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SEED = Number(process.env.DF_FUZZ_SEED ?? 20261207);
const CASES_PER_METHOD = 24;
const MiB = 2 ** 20;
/** Growth of a process's resident memory the barrage may cause (allocator slack, caches warming up). */
const RSS_GROWTH_LIMIT = 96 * MiB;

let dir: string;
let origin: OriginServer;
let cluster: Cluster;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "df-e2e-fuzz-"));
  origin = await startOriginServer();
  cluster = await startCluster({ dir: join(dir, "cluster"), peers: 1, manager: true });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

/** mulberry32: small, seeded, good enough to spread payloads. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/**
 * A payload: random bytes; or protobuf-shaped fields with random numbers, wire types and
 * values (length prefixes that lie, huge varints, deep nesting, long strings, repeated
 * fields by the thousand); or such a message cut short.
 */
function payload(random: () => number): Buffer {
  const kind = Math.floor(random() * 5);
  const int = (n: number) => Math.floor(random() * n);
  if (kind === 0) return Buffer.from(Array.from({ length: int(512) }, () => int(256)));
  const bytes: number[] = [];
  const fields = 1 + int(12);
  for (let i = 0; i < fields; i++) {
    const field = 1 + int(20);
    const wire = [0, 1, 2, 5][int(4)]!;
    bytes.push(...varint((field << 3) | wire));
    if (wire === 0) bytes.push(...varint(random() < 0.3 ? 2 ** 31 + int(2 ** 20) : int(2 ** 20)), ...(random() < 0.2 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] : []));
    else if (wire === 1) bytes.push(...Array.from({ length: 8 }, () => int(256)));
    else if (wire === 5) bytes.push(...Array.from({ length: 4 }, () => int(256)));
    else {
      const shape = int(4);
      if (shape === 0) bytes.push(...varint(2 ** 28 + int(1000))); // a length far past the end
      else if (shape === 1) {
        const length = int(4096);
        bytes.push(...varint(length), ...Array.from({ length }, () => 0x41 + int(26)));
      } else if (shape === 2) {
        // Nested length-delimited fields, a few levels deep.
        let inner: number[] = [0x08, 0x01];
        for (let depth = int(40); depth > 0; depth--) inner = [0x0a, ...varint(inner.length), ...inner];
        bytes.push(...varint(inner.length), ...inner);
      } else {
        const length = int(64);
        bytes.push(...varint(length), ...Array.from({ length }, () => int(256)));
      }
    }
  }
  if (kind === 4) return Buffer.from(bytes.slice(0, int(bytes.length + 1)));
  if (kind === 3) {
    // One field repeated by the thousand.
    const repeated: number[] = [];
    for (let i = 0; i < 2000; i++) repeated.push(0x10, ...varint(int(1 << 20)));
    return Buffer.from([...bytes, ...repeated]);
  }
  return Buffer.from(bytes);
}

interface MethodLike {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

interface Outcome {
  method: string;
  code: number;
  details: string;
}

const identity = (buffer: Buffer): Buffer => buffer;
const BAD_CODES = new Set([2 /* UNKNOWN */, 13 /* INTERNAL */]);

/** Calls `method` with raw bytes as its request message(s); resolves with the status the call ended with. */
function rawCall(raw: RawClient, method: MethodLike, messages: Buffer[]): Promise<Outcome> {
  const deadline = Date.now() + 5000;
  return new Promise((resolve) => {
    const done = (code: number, details: string) => resolve({ method: method.path, code, details });
    const onStatus = (status: { code: number; details: string }) => done(status.code, status.details);
    if (!method.requestStream && !method.responseStream) {
      raw.makeUnaryRequest(method.path, identity, identity, messages[0]!, { deadline }, (error: { code?: number; details?: string } | null) =>
        done(error?.code ?? 0, error?.details ?? ""),
      );
      return;
    }
    if (!method.requestStream) {
      const call = raw.makeServerStreamRequest(method.path, identity, identity, messages[0]!, { deadline });
      call.on("data", () => {});
      call.on("error", () => {});
      call.on("status", onStatus);
      return;
    }
    if (!method.responseStream) {
      const call = raw.makeClientStreamRequest(method.path, identity, identity, { deadline }, (error: { code?: number; details?: string } | null) =>
        done(error?.code ?? 0, error?.details ?? ""),
      );
      call.on("error", () => {});
      for (const message of messages) call.write(message);
      call.end();
      return;
    }
    const call = raw.makeBidiStreamRequest(method.path, identity, identity, { deadline });
    call.on("data", () => {});
    call.on("error", () => {});
    call.on("status", onStatus);
    for (const message of messages) call.write(message);
    call.end();
  });
}

// The grpc-js Client's raw call methods, as far as this test uses them.
/* eslint-disable @typescript-eslint/no-explicit-any -- grpc-js's raw call API is typed for its own serializers */
type RawClient = {
  makeUnaryRequest(path: string, s: any, d: any, message: Buffer, options: any, callback: any): any;
  makeServerStreamRequest(path: string, s: any, d: any, message: Buffer, options: any): any;
  makeClientStreamRequest(path: string, s: any, d: any, options: any, callback: any): any;
  makeBidiStreamRequest(path: string, s: any, d: any, options: any): any;
  close(): void;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

function rssOf(process: ManagedProcess): number {
  const status = readFileSync(`/proc/${process.child.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function fuzzService(name: string, client: { raw: unknown }, service: Record<string, MethodLike>, random: () => number): Promise<Outcome[]> {
  const raw = client.raw as RawClient;
  const outcomes: Outcome[] = [];
  for (const method of Object.values(service)) {
    for (let i = 0; i < CASES_PER_METHOD; i++) {
      const count = method.requestStream ? 1 + Math.floor(random() * 4) : 1;
      outcomes.push(await rawCall(raw, method, Array.from({ length: count }, () => payload(random))));
    }
  }
  expect(outcomes.length, name).toBeGreaterThan(0);
  return outcomes;
}

describe("fuzzing every entry point", () => {
  it("random and malformed protobuf to every gRPC method: no crash, no INTERNAL/UNKNOWN, bounded memory", async () => {
    const random = generator(SEED);
    const processes = [cluster.scheduler.process, cluster.manager!.process, cluster.seed!.process, cluster.peers[0]!.process];
    const before = processes.map(rssOf);
    const targets = [
      { name: "scheduler", client: createRpcClient(scheduler.SchedulerClient, cluster.scheduler.address), service: scheduler.SchedulerService },
      { name: "manager fleet", client: createRpcClient(manager.ManagerClient, cluster.manager!.grpc), service: manager.ManagerService },
      { name: "daemon upload", client: createRpcClient(daemonUpload.DfdaemonUploadClient, cluster.peers[0]!.upload), service: daemonUpload.DfdaemonUploadService },
      {
        name: "daemon download (local socket)",
        client: createRpcClient(daemonDownload.DfdaemonDownloadClient, `unix:${cluster.peers[0]!.socket}`),
        service: daemonDownload.DfdaemonDownloadService,
      },
    ];
    const bad: Outcome[] = [];
    let calls = 0;
    try {
      for (const target of targets) {
        const outcomes = await fuzzService(target.name, target.client, target.service as unknown as Record<string, MethodLike>, random);
        calls += outcomes.length;
        const histogram = new Map<number, number>();
        for (const outcome of outcomes) histogram.set(outcome.code, (histogram.get(outcome.code) ?? 0) + 1);
        console.log(`${target.name}: status codes ${[...histogram].map(([code, count]) => `${code}×${count}`).join(" ")}`);
        bad.push(...outcomes.filter((outcome) => BAD_CODES.has(outcome.code)));
      }
    } finally {
      for (const target of targets) target.client.close();
    }
    expect(bad, `seed ${SEED}: calls that ended INTERNAL or UNKNOWN`).toEqual([]);
    for (const [index, process] of processes.entries()) {
      expect(process.child.exitCode, `${process.name} exited`).toBeNull();
      const growth = rssOf(process) - before[index]!;
      expect(growth, `${process.name} grew by ${Math.round(growth / MiB)} MiB after ${calls} calls`).toBeLessThan(RSS_GROWTH_LIMIT);
    }
    console.log(`fuzz seed ${SEED}: ${calls} gRPC calls, RSS growth ${processes.map((p, i) => `${p.name} ${Math.round((rssOf(p) - before[i]!) / MiB)} MiB`).join(", ")}`);
  }, 300_000);

  it("random bodies to every REST route of the manager, signed in and not: never a 5xx", async () => {
    const random = generator(SEED + 1);
    const rest = cluster.manager!.restUrl;
    const document = (await (await fetch(`${rest}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const signin = await fetch(`${rest}/api/v1/users/signin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "root", password: cluster.manager!.rootPassword }),
    });
    const { token } = (await signin.json()) as { token: string };
    const bodies = (): string => {
      const kind = Math.floor(random() * 6);
      if (kind === 0) return Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256))).toString("latin1");
      if (kind === 1) return "[".repeat(1 + Math.floor(random() * 2000));
      if (kind === 2) return JSON.stringify({ name: "x".repeat(Math.floor(random() * 100_000)), id: random() < 0.5 ? -1 : 1e300, bio: null });
      if (kind === 3) return JSON.stringify(Array.from({ length: 50 }, () => ({ [String(random())]: random() })));
      if (kind === 4) return '{"a":'.repeat(300) + "1" + "}".repeat(300);
      return JSON.stringify({ url: "http://[::1", type: 99, args: { headers: { a: "b".repeat(10_000) } }, cluster_id: "1; DROP TABLE users" });
    };
    const fill = (path: string): string =>
      path.replace(/\{[^}]+\}/g, () => [String(Math.floor(random() * 5)), "-1", "abc", "99999999999999999999", "%00", "..%2F..%2Fetc"][Math.floor(random() * 6)]!);
    const failures: string[] = [];
    let requests = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const method of Object.keys(operations)) {
        for (let i = 0; i < 8; i++) {
          const signedIn = random() < 0.5;
          const body = method === "get" ? undefined : bodies();
          const target = `${rest}${fill(path)}`;
          const response = await fetch(target, {
            method: method.toUpperCase(),
            headers: { ...(signedIn ? { authorization: `Bearer ${token}` } : {}), "content-type": random() < 0.8 ? "application/json" : "text/plain" },
            ...(body === undefined ? {} : { body }),
          });
          await response.arrayBuffer();
          requests++;
          if (response.status >= 500) failures.push(`${method.toUpperCase()} ${target} (${signedIn ? "root" : "anonymous"}) → ${response.status}`);
        }
      }
    }
    expect(requests).toBeGreaterThan(50);
    expect(failures, `seed ${SEED + 1}`).toEqual([]);
    expect(cluster.manager!.process.child.exitCode).toBeNull();
  }, 300_000);

  it("an honest download still works afterwards, with the right bytes", async () => {
    const size = 5 * MiB + 3;
    const url = origin.publish("/after-fuzz.bin", { seed: 71, size });
    const out = join(dir, "after.bin");
    const result = await dfget([url, "-O", out, "--endpoint", cluster.peers[0]!.socket, "--no-progress"]);
    expect(result.code, result.stderr).toBe(0);
    expect(createHash("sha256").update(await readFile(out)).digest("hex")).toBe(createHash("sha256").update(generateContent(71, 0, size)).digest("hex"));
  }, 120_000);
});
