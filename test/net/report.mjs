// The markdown tables of a run (also printed on stdout). The chart is in svg.mjs.
const MiB = 2 ** 20;
const f1 = (x) => (x === undefined || x === null || Number.isNaN(x) ? "—" : x.toFixed(1));
const f2 = (x) => (x === undefined || x === null || Number.isNaN(x) ? "—" : x.toFixed(2));
const mbit = (bps) => (bps >= 1e9 ? `${bps / 1e9} Gbit/s` : `${bps / 1e6} Mbit/s`);

function table(header, rows) {
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

/** "seed 160 · peers 96 · origin 0 MiB (0 of 8 peers used the origin)" summed over the df peers. */
export function sourcesSummary(result) {
  if (result.system !== "df") return "—";
  const total = {};
  let fromOrigin = 0;
  for (const p of result.peers) {
    for (const [k, v] of Object.entries(p.sources ?? {})) total[k] = (total[k] ?? 0) + v;
    if ((p.sources?.origin ?? 0) > 0) fromOrigin += 1;
  }
  const parts = Object.entries(total).map(([k, v]) => `${k} ${v.toFixed(0)}`);
  return `${parts.join(" · ") || "?"} MiB; ${fromOrigin}/${result.peers.length} peers used the origin`;
}

export function resultsTable(results) {
  const header = ["scenario", "N", "size", "system", "run", "p50 s", "max s", "last done s", "bound s", "efficiency", "origin egress", "failed", "hash", "bytes from (df, summed over peers)"];
  const rows = results.map((r) => [
    r.scenario,
    r.n,
    `${r.sizeMiB} MiB`,
    r.system,
    r.run,
    f1(r.p50),
    f1(r.max),
    f1(r.makespan),
    f1(r.bound.seconds),
    r.efficiency === undefined ? "—" : `${(r.efficiency * 100).toFixed(0)} %`,
    r.originEgressBytes === undefined ? "—" : `${f2(r.originEgressBytes / r.fileBytes)}×${r.system === "bt" ? " (seeder)" : ""}`,
    `${r.failures.length}/${r.n}`,
    r.hashOk ? "ok" : `${r.hashBad} bad`,
    sourcesSummary(r),
  ]);
  return table(header, rows);
}

export function cpuTable(results) {
  const header = ["scenario", "N", "size", "system", "run", "origin", "sched", "seed", "tracker", "peer mean", "peer max", "all hosts", "machine busy", "busiest host / its wall time"];
  const rows = results.map((r) => {
    const c = r.cpuPerHost;
    const peerValues = r.peers.map((p) => c[p.host] ?? 0);
    const mean = peerValues.reduce((a, b) => a + b, 0) / Math.max(1, peerValues.length);
    const [busiest, busiestCpu] = Object.entries(c).sort((a, b) => b[1] - a[1])[0] ?? ["—", 0];
    return [
      r.scenario,
      r.n,
      `${r.sizeMiB} MiB`,
      r.system,
      r.run,
      f1(c.origin),
      f1(c.sched),
      f1(c.seed),
      f1(c.tracker),
      f1(mean),
      f1(Math.max(0, ...peerValues)),
      f1(Object.values(c).reduce((a, b) => a + b, 0)),
      r.meanMachineCpu === undefined ? "—" : `${(r.meanMachineCpu * 100).toFixed(0)} %`,
      `${busiest} ${((busiestCpu / Math.max(1e-9, r.wallSeconds)) * 100).toFixed(0)} %`,
    ];
  });
  return table(header, rows);
}

/** The whole markdown report: setup, the results table, the CPU table, the reasons of any failure. */
export function markdown({ meta, results }) {
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  const out = [
    `# df network testbed: ${meta.startedAt}`,
    "",
    `df root: \`${meta.dfRoot}\` (${meta.dfCommit}); node ${meta.node}; ${meta.cores} cores; kernel ${meta.kernel}; netem ${meta.netem ? "available" : "not available (no delay/loss added)"}.`,
    `Links: htb with a bfifo leaf of ${meta.queueMs} ms of the link rate, both directions of every host. Systems: ${meta.systems.join(", ")}.${meta.pieceMiB ? ` df pieces: ${meta.pieceMiB} MiB (dfget --piece-length).` : ""}`,
    "",
    "Scenarios:",
    ...scenarios.map((s) => `- \`${s}\`: ${meta.scenarioTitles[s]}`),
    "",
    "p50 and max: each peer's own download time (start to verified output). last done: when the last peer finished, from the first start.",
    `Bound: max(F/u_s, F/d_min, N·F/(u_s+Σu_i)) (plus last start + F/d_min when peers arrive staggered); u_s is the origin's uplink for every system (for df the seed peer's uplink is not added), Σu_i over the N peer hosts. Efficiency = bound / last done.`,
    "Origin egress: bytes the origin's HTTP server sent (direct, df), or what the aria2c seeder on the origin host uploaded (bt), in multiples of the file.",
    "",
    "## Completion",
    "",
    resultsTable(results),
    "",
    "## CPU seconds per host",
    "",
    "Every process of the host, short-lived ones (curl, dfget) included. machine busy: mean CPU use of the whole machine while the peers downloaded (100 % = both cores; anything else running on the machine and the kernel's packet forwarding included). busiest host: its CPU seconds over the run's wall time (100 % = one core saturated for the whole run).",
    "",
    cpuTable(results),
  ];
  const dfRuns = results.filter((r) => r.system === "df" && r.peers.length > 0);
  if (dfRuns.length > 0) {
    out.push("", "## df: where each peer's bytes came from (MiB, dfget's summary) and its time", "");
    for (const r of dfRuns) {
      const peers = r.peers.map((p) => {
        const src = Object.entries(p.sources ?? {}).map(([k, v]) => `${k} ${v.toFixed(0)}`).join("/") || "?";
        return `${p.host} ${src} ${p.ok ? `${p.seconds.toFixed(1)} s` : "FAILED"}`;
      });
      out.push(`- ${r.scenario} N=${r.n} ${r.sizeMiB} MiB run ${r.run}: ${peers.join("; ")}`);
    }
  }
  const failing = results.filter((r) => r.failures.length > 0 || !r.hashOk);
  if (failing.length > 0) {
    out.push("", "## Failures", "");
    for (const r of failing) {
      for (const f of r.failures) out.push(`- ${r.scenario} N=${r.n} ${r.sizeMiB} MiB ${r.system} run ${r.run}, ${f.host}: ${f.error}`);
      if (!r.hashOk) out.push(`- ${r.scenario} N=${r.n} ${r.sizeMiB} MiB ${r.system} run ${r.run}: ${r.hashBad} output(s) with the wrong SHA-256`);
    }
  }
  return `${out.join("\n")}\n`;
}

export { MiB, mbit };
