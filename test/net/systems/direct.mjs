// System "direct": no P2P at all. Every peer host runs curl against the origin at once,
// so the origin's uplink is shared N ways: the baseline that P2P has to beat.
import { join } from "node:path";
import { runIn } from "../procs.mjs";
import { CpuLedger, onEveryPeer, startOrigin, stopAll } from "./common.mjs";

export async function runDirect(ctx) {
  const ledger = new CpuLedger();
  const procs = [];
  try {
    const origin = await startOrigin(ctx);
    procs.push({ host: "origin", proc: origin.proc });
    const peers = await onEveryPeer(ctx, async (peer, i) => {
      const ns = ctx.testbed.hosts.get(peer).ns;
      const output = join(ctx.outDir, `${peer}.bin`);
      const r = await runIn(ns, "curl", ["-sS", "--fail", "-o", output, origin.url], {
        timeoutMs: Math.max(1000, ctx.deadline - performance.now()),
        keepStdout: false,
      });
      ledger.add(peer, r.cpu);
      const ok = r.code === 0 && !r.timedOut;
      return {
        started: r.started,
        ended: r.ended,
        result: { ok, output, code: r.code, timedOut: r.timedOut, error: ok ? undefined : r.stderr.trim().slice(-500) || `exit ${r.code ?? r.signal}`, cpu: r.cpu, index: i },
      };
    });
    const stats = await origin.stats();
    return { peers, originEgressBytes: stats.bytesServed, egressSource: "origin's HTTP body bytes", originRequests: stats.gets, ledger };
  } finally {
    await stopAll(procs, ledger);
  }
}
