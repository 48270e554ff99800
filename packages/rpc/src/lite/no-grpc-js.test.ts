import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

/** How many grpc-js files a fresh node process has loaded after importing `entry` (a built file). */
async function grpcFilesLoadedBy(entry: string): Promise<number> {
  const url = new URL(entry, import.meta.url).href;
  const script = [
    'import { createRequire } from "node:module";',
    `await import(${JSON.stringify(url)});`,
    "const loaded = Object.keys(createRequire(process.cwd() + \"/\").cache);",
    'console.log(loaded.filter((file) => file.includes("@grpc/grpc-js")).length);',
  ].join("\n");
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: fileURLToPath(new URL("..", import.meta.url)) });
  return Number(stdout.trim());
}

describe("@df/rpc/lite", () => {
  it("never loads grpc-js, which the full helpers do (the built output, as dfget loads it)", async () => {
    expect(await grpcFilesLoadedBy("../../dist/lite/index.js")).toBe(0);
    expect(await grpcFilesLoadedBy("../../dist/index.js")).toBeGreaterThan(0);
  });
});
