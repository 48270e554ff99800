// usage: node probe.mjs <bytePort> <taskId> <pieces> <mode>
import { Pool } from "undici";
import { performance } from "node:perf_hooks";
import http from "node:http";
const [port, taskId, count, mode] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4]), process.argv[5] ?? "undici"];
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8, pipelining: 1 });
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
let next = 0; let bytes = 0;
async function worker() {
  for (let n = next++; n < count; n = next++) {
    if (mode === "undici") {
      const { body } = await pool.request({ path: `/pieces/${taskId}/${n}`, method: "GET" });
      for await (const c of body) bytes += c.length;
    } else {
      await new Promise((resolve, reject) => http.get({ host: "127.0.0.1", port, path: `/pieces/${taskId}/${n}`, agent }, (res) => { res.on("data", (c) => (bytes += c.length)); res.on("end", resolve); res.on("error", reject); }).on("error", reject));
    }
  }
}
const t = performance.now();
await Promise.all(Array.from({ length: 8 }, worker));
const s = (performance.now() - t) / 1000;
console.log(mode, (bytes / 1e6 / s).toFixed(0), "MB/s");
await pool.close(); agent.destroy();
