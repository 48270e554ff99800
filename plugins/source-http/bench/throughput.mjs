// Throughput of @df/source-http against the compliance origin on loopback, next to the
// two things a user could run instead: undici.request and Node's http.get.
//
//   pnpm -F @df/compliance-tests exec tsc -b && pnpm -F @df/source-http exec tsc -b
//   node plugins/source-http/bench/throughput.mjs [sizeMiB=1024] [runs=3]
//
// The resource is generated from a seed on the origin thread and counted on arrival:
// neither side ever holds it whole.
import { Agent as HttpAgent, get as httpGet } from "node:http";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { Agent, request } from "undici";
import { createHttpSource } from "../dist/index.js";

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 1024) * MiB;
const runs = Number(process.argv[3] ?? 3);

const worker = new Worker(new URL("./origin-worker.mjs", import.meta.url), { workerData: { size, seed: 1 } });
const [{ url }] = await once(worker, "message");

const client = createHttpSource({ destinations: { allow: ["127.0.0.0/8"] } });
const undiciAgent = new Agent({ keepAliveTimeout: 30_000 });
const httpAgent = new HttpAgent({ keepAlive: true });

const methods = {
  "@df/source-http": async () => {
    const response = await client.get({ url });
    let bytes = 0;
    for await (const chunk of response.body) bytes += chunk.length;
    return bytes;
  },
  "undici.request": async () => {
    const { body } = await request(url, { dispatcher: undiciAgent });
    let bytes = 0;
    for await (const chunk of body) bytes += chunk.length;
    return bytes;
  },
  "http.get": () =>
    new Promise((resolve, reject) => {
      httpGet(url, { agent: httpAgent }, (res) => {
        let bytes = 0;
        res.on("data", (chunk) => {
          bytes += chunk.length;
        });
        res.on("end", () => resolve(bytes));
        res.on("error", reject);
      }).on("error", reject);
    }),
};

async function measure(run) {
  const started = process.hrtime.bigint();
  const bytes = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (bytes !== size) throw new Error(`got ${bytes} bytes, expected ${size}`);
  return bytes / 1e6 / seconds;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Warm up connections and the JIT once per method before measuring.
for (const run of Object.values(methods)) await measure(run);

const results = Object.fromEntries(Object.keys(methods).map((name) => [name, []]));
for (let i = 0; i < runs; i++) {
  // Interleaved, so drift in the machine's state hits every method alike.
  for (const [name, run] of Object.entries(methods)) results[name].push(await measure(run));
}

worker.postMessage("egress");
const [{ egress, connections }] = await once(worker, "message");

console.log(`${(size / MiB).toFixed(0)} MiB over loopback, ${runs} runs each after one warm-up, MB/s (1 MB = 10^6 bytes)`);
for (const [name, values] of Object.entries(results)) {
  console.log(
    `  ${name.padEnd(16)} median ${median(values).toFixed(0).padStart(5)}   runs ${values.map((v) => v.toFixed(0)).join(", ")}`,
  );
}
const ours = median(results["@df/source-http"]);
console.log(`  ratio vs undici.request ${(ours / median(results["undici.request"])).toFixed(3)}`);
console.log(`  ratio vs http.get       ${(ours / median(results["http.get"])).toFixed(3)}`);
console.log(`  origin egress ${(egress / MiB).toFixed(0)} MiB over ${connections} connections`);

await client.close();
await undiciAgent.close();
httpAgent.destroy();
worker.postMessage("close");
