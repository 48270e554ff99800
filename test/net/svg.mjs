// The chart of a run, one SVG with no dependencies: for every case (scenario, N, size) a
// completion CDF per system (the fraction of peers done against time since the first
// start, the physical bound as a dashed line), and below it the upload all hosts used
// over time (from the 0.5 s byte counters) against the hosts' total uplink.
const COLORS = { direct: "#7a7a7a", df: "#1f6fd1", bt: "#e07b00" };
const PANEL_W = 520;
const CDF_H = 230;
const USE_H = 130;
const GAP = 30;
const MARGIN = { left: 52, right: 16, top: 34, bottom: 36 };

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Round axis steps: 1, 2, 5 × 10^k giving about `count` ticks up to `max`. */
function ticks(max, count = 6) {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

function axes({ x0, y0, w, h, xMax, yMax, yTicks, yFormat, xLabel, yLabel }) {
  const parts = [];
  const sx = (v) => x0 + (v / xMax) * w;
  const sy = (v) => y0 + h - (v / yMax) * h;
  for (const t of ticks(xMax)) {
    parts.push(`<line x1="${sx(t)}" y1="${y0}" x2="${sx(t)}" y2="${y0 + h}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(t)}" y="${y0 + h + 14}" text-anchor="middle">${t}</text>`);
  }
  for (const t of yTicks) {
    parts.push(`<line x1="${x0}" y1="${sy(t)}" x2="${x0 + w}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${x0 - 5}" y="${sy(t) + 4}" text-anchor="end">${yFormat(t)}</text>`);
  }
  parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${x0 + w / 2}" y="${y0 + h + 29}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(${x0 - 38},${y0 + h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  return { parts, sx, sy };
}

function casePanel(caseResults, ox, oy) {
  const first = caseResults[0];
  const parts = [];
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const bound = first.bound.seconds;
  // The time axis fits the P2P systems: N plain downloads from the origin can take ten
  // times longer and would squash them into a corner, so direct runs off the right edge
  // (clipped, its legend saying so) unless it is the only system or the fastest.
  const finishOf = (rs) => rs.flatMap((r) => r.peers.filter((p) => p.ok).map((p) => p.finishedAt));
  const p2p = caseResults.filter((r) => r.system !== "direct");
  const finish = finishOf(p2p.length > 0 ? p2p : caseResults);
  const xMax = Math.max(bound * 1.1, ...finish) * 1.1 || 1;
  const clipId = `clip-${ox}-${oy}`;
  parts.push(`<clipPath id="${clipId}"><rect x="${ox + MARGIN.left}" y="${oy}" width="${PANEL_W - MARGIN.left - MARGIN.right}" height="${CDF_H + USE_H + 200}"/></clipPath>`);
  parts.push(
    `<text x="${ox + MARGIN.left}" y="${oy + 16}" font-weight="bold" font-size="13">${esc(`${first.scenario}, N = ${first.n}, ${first.sizeMiB} MiB`)}</text>`,
  );

  // Completion CDF
  const cdf = axes({
    x0: ox + MARGIN.left, y0: oy + MARGIN.top, w, h: CDF_H, xMax, yMax: 1,
    yTicks: [0, 0.25, 0.5, 0.75, 1], yFormat: (t) => `${Math.round(t * 100)}%`,
    xLabel: "seconds since the first peer started", yLabel: "peers done",
  });
  parts.push(...cdf.parts);
  parts.push(`<line x1="${cdf.sx(bound)}" y1="${oy + MARGIN.top}" x2="${cdf.sx(bound)}" y2="${oy + MARGIN.top + CDF_H}" stroke="#c00" stroke-dasharray="5,4"/>`);
  parts.push(`<text x="${cdf.sx(bound) + 4}" y="${oy + MARGIN.top + CDF_H - 6}" fill="#c00">bound ${bound.toFixed(1)} s</text>`);
  const legend = [];
  caseResults.forEach((r, i) => {
    const color = COLORS[r.system] ?? "#000";
    const opacity = r.run === 1 ? 1 : 0.55;
    const done = r.peers.filter((p) => p.ok).map((p) => p.finishedAt).sort((a, b) => a - b);
    let d = `M ${cdf.sx(0)} ${cdf.sy(0)}`;
    done.forEach((t, k) => {
      d += ` H ${cdf.sx(t)} V ${cdf.sy((k + 1) / r.n)}`;
    });
    if (done.length > 0) d += ` H ${cdf.sx(xMax)}`;
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-opacity="${opacity}"${r.run > 1 ? ' stroke-dasharray="6,3"' : ""} clip-path="url(#${clipId})"/>`);
    const offChart = r.makespan !== undefined && r.makespan > xMax ? " (off the chart →)" : "";
    const max = r.makespan === undefined ? `${r.n - done.length} of ${r.n} failed` : `last ${r.makespan.toFixed(1)} s${offChart}`;
    legend.push({ color, opacity, text: `${r.system}${caseResults.some((o) => o.run > 1) ? ` run ${r.run}` : ""}: ${max}` });
    void i;
  });
  // Top left: a CDF is empty there (nobody is done early on).
  const legendW = 240;
  parts.push(`<rect x="${ox + MARGIN.left + 4}" y="${oy + MARGIN.top + 4}" width="${legendW}" height="${legend.length * 15 + 6}" fill="#fff" fill-opacity="0.85" stroke="#ddd"/>`);
  legend.forEach((l, k) => {
    const y = oy + MARGIN.top + 22 + k * 15;
    const x = ox + MARGIN.left + 10;
    parts.push(`<rect x="${x}" y="${y - 9}" width="12" height="3" fill="${l.color}" fill-opacity="${l.opacity}"/>`);
    parts.push(`<text x="${x + 16}" y="${y - 4}">${esc(l.text)}</text>`);
  });

  // Upload used by all hosts together, per 0.5 s sample
  const useTop = oy + MARGIN.top + CDF_H + MARGIN.bottom + 8;
  const series = caseResults.map((r) => {
    const pts = [];
    for (let k = 1; k < r.samples.length && r.samples[k - 1].t < xMax * 1.05; k++) {
      const a = r.samples[k - 1];
      if (a.t < 0) continue;
      const b = r.samples[k];
      const dt = b.t - a.t;
      if (dt <= 0) continue;
      let bytes = 0;
      for (const [name, c] of Object.entries(b.hosts)) bytes += c.up - (a.hosts[name]?.up ?? 0);
      pts.push([b.t, (bytes * 8) / dt / 1e6]);
    }
    return { r, pts };
  });
  const capacity = first.uploadCapacityMbit;
  const yMax = Math.max(capacity ?? 0, ...series.flatMap((s) => s.pts.map((p) => p[1]))) * 1.1 || 1;
  const use = axes({
    x0: ox + MARGIN.left, y0: useTop, w, h: USE_H, xMax, yMax,
    yTicks: ticks(yMax, 4), yFormat: (t) => String(t),
    xLabel: "seconds since the first peer started", yLabel: "upload, Mbit/s",
  });
  parts.push(...use.parts);
  if (capacity) {
    parts.push(`<line x1="${use.sx(0)}" y1="${use.sy(capacity)}" x2="${use.sx(xMax)}" y2="${use.sy(capacity)}" stroke="#c00" stroke-dasharray="5,4"/>`);
    parts.push(`<text x="${use.sx(0) + 4}" y="${use.sy(capacity) - 3}" fill="#c00">all uplinks ${capacity} Mbit/s</text>`);
  }
  for (const { r, pts } of series) {
    if (pts.length === 0) continue;
    const d = pts.map(([t, v], k) => `${k ? "L" : "M"} ${use.sx(t).toFixed(1)} ${use.sy(v).toFixed(1)}`).join(" ");
    parts.push(`<path d="${d}" fill="none" stroke="${COLORS[r.system] ?? "#000"}" stroke-width="1.3" stroke-opacity="${r.run === 1 ? 0.9 : 0.5}" clip-path="url(#${clipId})"/>`);
  }
  return parts;
}

/** The whole SVG for `results` (grouped by case, two panels a row). */
export function chart({ meta, results }) {
  const groups = new Map();
  for (const r of results) {
    const key = `${r.scenario}|${r.n}|${r.sizeMiB}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const cases = [...groups.values()];
  const cols = Math.min(2, Math.max(1, cases.length));
  const rows = Math.ceil(cases.length / cols);
  const panelH = MARGIN.top + CDF_H + MARGIN.bottom + 8 + USE_H + MARGIN.bottom + GAP;
  // Short lines: one panel is narrow, and a longer line would be cut at its edge.
  const header = 92;
  const width = cols * PANEL_W + 20;
  const height = header + rows * panelH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">df network testbed</text>`,
    `<text x="10" y="36">${esc(`${meta.startedAt.slice(0, 16).replace("T", " ")} UTC, df ${meta.dfCommit}`)}</text>`,
    `<text x="10" y="50">${esc(`tc htb + bfifo (${meta.queueMs} ms of the rate) per host and direction; ${meta.cores} cores.`)}</text>`,
    `<text x="10" y="64">${esc("Completion CDF per system (dashed: runs after the first), bound in red;")}</text>`,
    `<text x="10" y="78">${esc("below, the upload of all hosts per 0.5 s.")}</text>`,
  ];
  cases.forEach((c, i) => {
    parts.push(...casePanel(c, 10 + (i % cols) * PANEL_W, header + Math.floor(i / cols) * panelH));
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
