import { Pool } from "undici";
import { performance } from "node:perf_hooks";
import { Storage } from "@df/storage";
import { crc32 } from "@df/piece";
import { rm } from "node:fs/promises";
const setup = JSON.parse(process.argv[2]);
const mode = process.argv[3];
const chunk = Number(process.argv[4] ?? 1048576);
// crc speed
{ const b = Buffer.alloc(64 << 20, 7); const t = performance.now(); let c = 0; for (let i = 0; i < 16; i++) c = crc32(b, c); console.log("crc32", (1024 * 1.048576 / ((performance.now() - t) / 1000)).toFixed(0), "MB/s"); }
const pool = new Pool(`http://127.0.0.1:${setup.bytePort}`, { connections: 8, pipelining: 1 });
const dir = "/dev/shm/probe-child";
await rm(dir, { recursive: true, force: true });
const storage = await Storage.open({ dir, gc: { intervalMs: 0 } });
const task = await storage.createTask({ taskId: setup.taskId, contentLength: setup.contentLength, pieceLength: setup.pieceLength });
const count = setup.contentLength / setup.pieceLength;
async function* coalesce(source, size) {
  let parts = []; let held = 0;
  for await (const c of source) { parts.push(c); held += c.length; if (held >= size) { yield Buffer.concat(parts, held); parts = []; held = 0; } }
  if (held) yield Buffer.concat(parts, held);
}
const free = [];
async function* pooled(source, size) {
  const buf = free.pop() ?? Buffer.allocUnsafe(size);
  let held = 0;
  try {
    for await (const c of source) {
      let off = 0;
      while (off < c.length) {
        const n = Math.min(size - held, c.length - off);
        c.copy(buf, held, off, off + n);
        held += n; off += n;
        if (held === size) { yield buf; held = 0; }
      }
    }
    if (held) yield buf.subarray(0, held);
  } finally { free.push(buf); }
}
let next = 0;
async function worker() {
  for (let n = next++; n < count; n = next++) {
    const { body, headers } = await pool.request({ path: `/pieces/${setup.taskId}/${n}`, method: "GET" });
    const digest = headers["x-df-digest"];
    if (mode === "drain") { for await (const c of body) {} continue; }
    if (mode === "raw") { await task.writePiece(n, body, { digest }); continue; }
    if (mode === "coalesce") { await task.writePiece(n, coalesce(body, chunk), { digest }); continue; }
    if (mode === "pooled") { await task.writePiece(n, pooled(body, chunk), { digest }); continue; }
    if (mode === "whole") { const buf = Buffer.allocUnsafe(setup.pieceLength); let o = 0; for await (const c of body) { buf.set(c, o); o += c.length; } await task.writePiece(n, buf, { digest }); continue; }
  }
}
const t = performance.now();
await Promise.all(Array.from({ length: 8 }, worker));
const s = (performance.now() - t) / 1000;
console.log(mode, chunk, (setup.contentLength / 1e6 / s).toFixed(0), "MB/s");
await pool.close(); await storage.close(); await rm(dir, { recursive: true, force: true });
