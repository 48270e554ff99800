import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const testDir = fileURLToPath(new URL("..", import.meta.url));

// A separate Node process, resolving like an installed df would: the plugin is found by
// its npm name from the config's folder and loaded from its built dist/, with its own
// copy of @df/interface (the brand symbol is global, so copies agree).
const script = `
import { resolvePlugin } from "@df/service-kit";
const evaluator = await resolvePlugin(
  ["@df/example-custom-evaluator", { sameIdcBonus: 0.4 }],
  { kind: "evaluator", key: "scheduler.evaluators.0", baseDir: process.cwd() },
);
const host = (idc) => ({ id: idc, type: "normal", idc, maxTxBandwidth: 1, txBandwidth: 0, concurrentUploadLimit: 1,
  concurrentUploadCount: 0, concurrentUploadPieceCount: 0, uploadCount: 0, uploadFailedCount: 0, uploadContentLength: 0 });
const peer = (idc) => ({ id: idc, state: "running", host: host(idc), finishedPieceCount: 0, pieceCosts: [] });
console.log(JSON.stringify({ name: evaluator.name, score: evaluator.score(peer("hz"), peer("hz"), { totalPieceCount: 4 }) }));
try {
  await resolvePlugin(["@df/example-custom-evaluator", { sameIdcBonus: 3 }], { kind: "evaluator", key: "scheduler.evaluators.0", baseDir: process.cwd() });
} catch (error) {
  console.log(error.message);
}
`;

describe("a third-party evaluator package", () => {
  it("is resolved by npm name from the config folder, built output and all", async () => {
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: testDir, timeout: 20_000 });
    const [result, refusal] = stdout.trim().split("\n");
    expect(JSON.parse(result!)).toEqual({ name: "same-idc", score: 0.4 });
    expect(refusal).toMatch(/^invalid options for evaluator plugin "same-idc": scheduler\.evaluators\.0\.1\.sameIdcBonus: /);
  });
});
