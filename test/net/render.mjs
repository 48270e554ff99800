// Rewrites results.md and chart.svg of a finished run from its results.json (after a
// change to the report or the chart, or for a copy of a run kept for the README).
//
//   node test/net/render.mjs test/net/results/<timestamp>
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { markdown } from "./report.mjs";
import { chart } from "./svg.mjs";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node test/net/render.mjs <results dir>");
  process.exit(2);
}
const data = JSON.parse(await readFile(join(dir, "results.json"), "utf8"));
await writeFile(join(dir, "results.md"), markdown(data));
await writeFile(join(dir, "chart.svg"), chart(data));
console.log(`rewrote ${join(dir, "results.md")} and chart.svg`);
