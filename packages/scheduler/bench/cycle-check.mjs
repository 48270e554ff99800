// Cycle check of a reschedule in a large acyclic task (issue 16): a task of 10,000
// peers as a tree of fan-out 4, and a peer that joined early (near the root, so nearly
// every other peer is below it). Before: one walk of its subtree per sampled candidate
// (40, filterParentLimit's default); after: one walk (Dag.descendants) for the whole
// sample. Both in this script, medians of many rounds. Run after `pnpm build`.
import { performance } from "node:perf_hooks";
import { Dag } from "../dist/resource/dag.js";

const short = process.argv.includes("--short");
const PEERS = 10_000;
const SAMPLE = 40;
const ROUNDS = short ? 20 : 200;

const dag = new Dag({ allowCycles: false });
for (let i = 0; i < PEERS; i++) dag.addVertex(`p${i}`, i);
for (let i = 1; i < PEERS; i++) dag.addEdge(`p${Math.floor((i - 1) / 4)}`, `p${i}`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sample = () => Array.from({ length: SAMPLE }, () => `p${Math.floor(Math.random() * PEERS)}`);

function measure(child, check) {
  const times = [];
  let rejected = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const candidates = sample();
    const started = performance.now();
    rejected += check(child, candidates);
    times.push(performance.now() - started);
  }
  return { ms: median(times), rejectedShare: rejected / (ROUNDS * SAMPLE) };
}

const perCandidate = (child, candidates) => candidates.filter((id) => !dag.canAddEdge(id, child)).length;
const oneWalk = (child, candidates) => {
  const below = dag.descendants(child);
  return candidates.filter((id) => id === child || below.has(id)).length;
};

console.log(`| peer (depth) | candidates refused | walk per candidate | one walk | speed-up |`);
console.log(`|---|---|---|---|---|`);
for (const [child, depth] of [["p1", 1], ["p5", 2], ["p2000", 6]]) {
  const before = measure(child, perCandidate);
  const after = measure(child, oneWalk);
  if (Math.abs(before.rejectedShare - after.rejectedShare) > 0.05) throw new Error("the two checks disagree");
  console.log(
    `| ${child} (${depth}) | ${(after.rejectedShare * 100).toFixed(0)} % | ${before.ms.toFixed(2)} ms | ${after.ms.toFixed(2)} ms | ${(before.ms / Math.max(after.ms, 0.001)).toFixed(1)}× |`,
  );
}
