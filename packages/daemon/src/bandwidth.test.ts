import path from "node:path";
import { describe, expect, it } from "vitest";
import { hasErrorCode } from "@df/interface";
import { daemonConfig } from "./config.js";
import { Daemon } from "./daemon.js";
import { DownloadBandwidth } from "./bandwidth.js";
import { download, pieces, sha256, sha256File, startDaemon, startOrigin, startScheduler, testLogger } from "./test-support/cluster.js";
import { common } from "@df/rpc";
import { generateContent } from "@df/compliance-tests";

const MiB = 2 ** 20;

/** Downloads `size` bytes from the origin through a fresh peer shaped by `download`; returns the seconds it took. */
async function timedBackToSource(name: string, downloadConfig: Record<string, unknown>, size: number): Promise<{ seconds: number; daemon: Daemon }> {
  const origin = await startOrigin();
  const { address } = await startScheduler();
  const peer = await startDaemon({ name, scheduler: address, config: { download: downloadConfig } });
  const url = origin.publish(`/${name}.bin`, { size, seed: 7 });
  const output = path.join(peer.dir, "out.bin");
  const started = performance.now();
  await download(peer.addresses.socket, { url, outputPath: output });
  const seconds = (performance.now() - started) / 1000;
  expect(await sha256File(output)).toBe(sha256(generateContent(7, 0, size)));
  return { seconds, daemon: peer };
}

describe("download bandwidth", () => {
  it("holds one task to perPeerRateLimit under the static shaper, from the origin", async () => {
    // 16 MiB at 8 MiB/s: one piece passes at once, the other three wait 1.5 s in all.
    const { seconds, daemon } = await timedBackToSource("static", { trafficShaperType: "static", perPeerRateLimit: "8Mi" }, 16 * MiB);
    expect(daemon.bandwidth.shaper.name).toBe("static");
    expect(seconds).toBeGreaterThan(1.3);
    expect(seconds).toBeLessThan(6);
  });

  it("holds all tasks to totalRateLimit whatever the shaper, and gives one task all of it under sampling", async () => {
    const { seconds: plain } = await timedBackToSource("plain", { trafficShaperType: "plain", totalRateLimit: "8Mi" }, 16 * MiB);
    expect(plain).toBeGreaterThan(1.3);
    const { seconds: sampling } = await timedBackToSource(
      "sampling",
      { trafficShaperType: "sampling", totalRateLimit: "16Mi", perPeerRateLimit: "4Mi" },
      16 * MiB,
    );
    // perPeerRateLimit plays no part: 16 MiB at the full 16 MiB/s (less the burst).
    expect(sampling).toBeLessThan(2.5);
  });

  it("shapes pieces from a parent as well, without counting the wait as the parent's cost", async () => {
    const origin = await startOrigin();
    const { address } = await startScheduler();
    const parent = await startDaemon({ name: "parent", scheduler: address });
    const child = await startDaemon({ name: "child", scheduler: address, config: { download: { trafficShaperType: "static", perPeerRateLimit: "8Mi" } } });
    const size = 16 * MiB;
    const url = origin.publish("/p2p-shaped.bin", { size, seed: 9 });
    await download(parent.addresses.socket, { url, outputPath: path.join(parent.dir, "out.bin") });
    const started = performance.now();
    const responses = await download(child.addresses.socket, { url, outputPath: path.join(child.dir, "out.bin") });
    const seconds = (performance.now() - started) / 1000;
    const fromParent = pieces(responses);
    expect(fromParent.length).toBe(4);
    expect(fromParent.every((piece) => piece.trafficType === common.TrafficType.REMOTE_PEER)).toBe(true);
    expect(seconds).toBeGreaterThan(1.3);
    // Loopback moves a piece in milliseconds: the seconds spent waiting are not its cost.
    expect(Math.max(...fromParent.map((piece) => piece.costMs))).toBeLessThan(1000);
    expect(await sha256File(path.join(child.dir, "out.bin"))).toBe(sha256(generateContent(9, 0, size)));
  });

  it("passes the download limits to the shaper, the entry's own options winning", async () => {
    const logger = testLogger("bandwidth");
    const bandwidth = await DownloadBandwidth.fromConfig(
      daemonConfig({ download: { trafficShaperType: ["sampling", { totalRateLimit: "2Mi", intervalMs: 200 }], totalRateLimit: "8Mi" } }),
      { logger },
    );
    bandwidth.addTask({ taskId: "t", pieceLength: 4 * MiB }, {});
    expect(bandwidth.shaper.limitOf("t")).toBe(4 * MiB); // one piece per second at least
    expect(bandwidth.totalRateLimit).toBe(8 * MiB);
    bandwidth.stop();
  });

  it("refuses an unknown shaper by name, with the key and a suggestion", async () => {
    const error = await Daemon.create(daemonConfig({ download: { trafficShaperType: "sampler" } }), { logger: testLogger("x") }).catch((e: unknown) => e);
    expect(hasErrorCode(error, "INVALID_ARGUMENT")).toBe(true);
    expect(String((error as Error).message)).toMatch(/download\.trafficShaperType/);
    expect(String((error as Error).message)).toMatch(/sampling/);
  });

  it("lets only the download that added a task remove it", () => {
    const bandwidth = new DownloadBandwidth(
      { name: "probe", start() {}, stop() {}, addTask() {}, removeTask: (id) => removed.push(id), acquire: async () => {}, record() {}, limitOf: () => Infinity, lastSecondUsage: () => 0 },
      MiB,
    );
    const removed: string[] = [];
    const first = {};
    const second = {};
    bandwidth.addTask({ taskId: "t", pieceLength: MiB }, first);
    bandwidth.addTask({ taskId: "t", pieceLength: MiB }, second);
    bandwidth.removeTask("t", first);
    expect(removed).toEqual([]);
    bandwidth.removeTask("t", second);
    expect(removed).toEqual(["t"]);
    bandwidth.stop();
  });
});
