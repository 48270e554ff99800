// Sequential unary round trips over a unix socket: @df/rpc's server and client helpers
// against bare grpc-js on the same service, in one process, taking turns. Prints the
// median per call of each pairing, so the helpers' own cost can be read off.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { createRpcClient, createRpcServer, scheduler, unary } from "../dist/index.js";

const calls = Number(process.argv.find((a) => a.startsWith("--calls="))?.slice(8) ?? 3000);
const rounds = 5;
const dir = mkdtempSync(join(tmpdir(), "df-rpc-bench-"));
const request = scheduler.StatTaskRequest.create({ hostId: "h", taskId: "t".repeat(64) });
const answer = scheduler.StatTaskResponse.create({ task: { id: "t".repeat(64), url: "d7y:/x", contentLength: 4096 } });

const ours = createRpcServer({ address: `unix:${join(dir, "ours.sock")}` });
ours.addService(scheduler.SchedulerService, { statTask: () => answer });
const oursAddress = await ours.start();

const bare = new grpc.Server();
bare.addService(scheduler.SchedulerService, { statTask: (_call, callback) => callback(null, answer) });
await new Promise((resolve, reject) => bare.bindAsync(`unix:${join(dir, "bare.sock")}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));

const clients = {
  ours: createRpcClient(scheduler.SchedulerClient, oursAddress),
  bare: createRpcClient(scheduler.SchedulerClient, `unix:${join(dir, "bare.sock")}`),
};
const helper = (client) => () => unary(client, "statTask", request);
const raw = (client) => () => new Promise((resolve, reject) => client.raw.statTask(request, (e, r) => (e ? reject(e) : resolve(r))));
const pairings = {
  "helper → @df/rpc server": helper(clients.ours),
  "helper → bare server": helper(clients.bare),
  "bare client → @df/rpc server": raw(clients.ours),
  "bare client → bare server": raw(clients.bare),
};

async function timeOne(fn) {
  for (let i = 0; i < 200; i++) await fn();
  const started = performance.now();
  for (let i = 0; i < calls; i++) await fn();
  return ((performance.now() - started) / calls) * 1000;
}

const results = Object.fromEntries(Object.keys(pairings).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) for (const [name, fn] of Object.entries(pairings)) results[name].push(await timeOne(fn));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results["bare client → bare server"]);
console.log(`unary round trip over a unix socket, ${calls} calls × ${rounds} rounds, median µs per call`);
for (const [name, xs] of Object.entries(results)) console.log(`${name.padEnd(30)} ${median(xs).toFixed(0).padStart(5)} µs  ${(median(xs) / base).toFixed(2)}× bare`);
for (const c of Object.values(clients)) c.close();
await ours.stop({ graceMs: 0 });
bare.forceShutdown();
rmSync(dir, { recursive: true, force: true });
