import { describe, expect, it } from "vitest";
import { collectGarbage, DEFAULT_GC_OPTIONS } from "./gc.js";
import type { HostInfo } from "./host.js";
import { Resources } from "./resources.js";
import type { TaskInfo } from "./task.js";

const hostInfo = (id: string, overrides: Partial<HostInfo> = {}): HostInfo => ({
  id,
  type: "normal",
  hostname: id,
  ip: "127.0.0.1",
  port: 4000,
  downloadPort: 4001,
  maxTxBandwidth: 1e9,
  txBandwidth: 0,
  concurrentUploadLimit: 50,
  announceIntervalMs: 1000,
  disableShared: false,
  ...overrides,
});
const taskInfo: TaskInfo = { url: "http://o/f", type: "STANDARD", filteredQueryParams: [], header: {}, backToSourceLimit: 200 };

function world() {
  const resources = new Resources();
  const a = resources.upsertHost(hostInfo("a"), 0);
  const b = resources.upsertHost(hostInfo("b"), 0);
  const task = resources.taskOrCreate("t", taskInfo, 0);
  const pa = resources.peerOrCreate("pa", task, a, { now: 0 });
  const pb = resources.peerOrCreate("pb", task, b, { now: 0 });
  return { resources, a, b, task, pa, pb };
}

describe("Resources", () => {
  it("links hosts, tasks and peers, and unlinks them together", () => {
    const { resources, task, pa, pb } = world();
    pa.fsm.fire("register-normal");
    pa.fsm.fire("download-back-to-source");
    pb.fsm.fire("register-normal");
    task.addEdge(pa, pb);
    expect(resources.hosts.get("a")!.concurrentUploadCount).toBe(1);
    resources.deleteHost("a");
    expect(resources.peers.has("pa")).toBe(false);
    expect(task.dag.has("pa")).toBe(false);
    expect(task.dag.inDegree("pb")).toBe(0);
    expect(resources.hosts.has("a")).toBe(false);
  });

  it("returns the same peer when it registers again, and refuses a clash", () => {
    const { resources, task, a, b } = world();
    expect(resources.peerOrCreate("pa", task, a, { now: 1 })).toBe(resources.peers.get("pa"));
    expect(() => resources.peerOrCreate("pa", task, b, { now: 1 })).toThrow(/already registered/);
  });

  it("names the fix for an unknown host", () => {
    expect(() => new Resources().host("nope")).toThrow(/announce the host first/);
  });

  it("picks the same seed host for a task until the seed set changes", () => {
    const resources = new Resources();
    expect(resources.seedHostFor("t")).toBeUndefined();
    for (const id of ["s1", "s2", "s3"]) resources.upsertHost(hostInfo(id, { type: "seed" }), 0);
    resources.upsertHost(hostInfo("n1"), 0);
    const picks = new Set(Array.from({ length: 200 }, (_, i) => resources.seedHostFor(`task-${i}`)!.id));
    expect([...picks].sort()).toEqual(["s1", "s2", "s3"]);
    const first = resources.seedHostFor("task-7")!.id;
    expect(resources.seedHostFor("task-7")!.id).toBe(first);
    expect(resources.seedHostFor("task-7", new Set([first]))!.id).not.toBe(first);
    resources.deleteHost(first);
    expect(resources.seedHostFor("task-7")!.id).not.toBe(first);
  });
});

describe("collectGarbage", () => {
  it("drops hosts that missed two announces, with their peers, then empty tasks", () => {
    const { resources, b } = world();
    b.updatedAt = 2500;
    const result = collectGarbage(resources, 2600, DEFAULT_GC_OPTIONS);
    expect(result).toEqual({ hosts: 1, peers: 1, tasks: 0 });
    expect(resources.hosts.has("a")).toBe(false);
    expect(resources.hosts.has("b")).toBe(true);
    resources.deleteHost("b");
    expect(collectGarbage(resources, 2600, DEFAULT_GC_OPTIONS).tasks).toBe(1);
  });

  it("drops peers that left, failed, stalled or went silent", () => {
    const { resources, pa, pb } = world();
    const now = 10_000;
    for (const host of resources.hosts.values()) host.updatedAt = now;
    pa.fsm.fire("leave");
    pb.fsm.fire("register-normal");
    pb.fsm.fire("download");
    const options = { ...DEFAULT_GC_OPTIONS, pieceDownloadTimeoutMs: 5000 };
    expect(collectGarbage(resources, now, options).peers).toBe(2);
  });
});
