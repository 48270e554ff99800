import { noopLogger, systemClock, type Evaluator } from "@df/interface";
import { describe, expect, it } from "vitest";
import type { Host, HostInfo } from "../resource/host.js";
import { Resources } from "../resource/resources.js";
import { ParentSelector } from "../scheduling/parent-selector.js";
import { Announcements, DEFAULT_ANNOUNCEMENT_OPTIONS } from "./announcements.js";
import type { DownloadRequest, SeedPeerTrigger } from "./types.js";

const info = (id: string, type: "normal" | "seed" = "normal"): HostInfo => ({
  id,
  type,
  hostname: id,
  ip: "127.0.0.1",
  port: 4000,
  downloadPort: 4001,
  maxTxBandwidth: 1e10,
  txBandwidth: 0,
  concurrentUploadLimit: 100,
  announceIntervalMs: 30_000,
  disableShared: false,
});

const download = (overrides: Partial<DownloadRequest> = {}): DownloadRequest => ({
  url: "http://origin/file",
  type: "STANDARD",
  filteredQueryParams: [],
  header: {},
  needBackToSource: false,
  disableBackToSource: false,
  ...overrides,
});

const progress: Evaluator = { name: "progress", score: (p) => Math.min(1, p.finishedPieceCount / 10) };
const options = { ...DEFAULT_ANNOUNCEMENT_OPTIONS, retry: { retryLimit: 5, retryBackToSourceLimit: 4, retryIntervalMs: 5 }, registerDelayBaseMs: 0 };

function setup(seeds?: (announcements: Announcements) => SeedPeerTrigger, allowCycles = true) {
  const resources = new Resources({ allowCycles });
  const selector = new ParentSelector([progress], () => ({ candidateParentLimit: 3, filterParentLimit: 15 }));
  const late: { trigger?: SeedPeerTrigger } = {};
  const announcements: Announcements = new Announcements(
    resources,
    selector,
    { trigger: (...args) => late.trigger!.trigger(...args) },
    systemClock,
    options,
    noopLogger,
    {},
  );
  late.trigger = seeds?.(announcements) ?? { trigger: () => Promise.reject(new Error("no seed here")) };
  for (const id of ["h1", "h2", "h3"]) resources.upsertHost(info(id), Date.now());
  return { resources, announcements };
}

describe("Announcements", () => {
  it("sends the first peer of a new task to the source when no seed peer exists", async () => {
    const { announcements } = setup();
    const response = await announcements.register("h1", "t", "p1", download());
    expect(response).toEqual({ kind: "need-back-to-source", description: "the peer asked to fetch from the source" });
  });

  it("gives the next peer the one fetching from the source as its parent", async () => {
    const { announcements } = setup();
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    const response = await announcements.register("h2", "t", "p2", download());
    expect(response.kind).toBe("normal-task");
    expect(response.kind === "normal-task" && response.parents.map((p) => p.id)).toEqual(["p1"]);
  });

  it("triggers the seed peer for a new task and hands it out once it registers", async () => {
    const triggered: string[] = [];
    const { announcements, resources } = setup((a) => ({
      async trigger(seed: Host, taskId, request) {
        triggered.push(`${seed.id}:${taskId}:${request.needBackToSource}`);
        // What a seed daemon does on a trigger: register as a back-to-source peer.
        const response = await a.register(seed.id, taskId, "seed-peer", request);
        expect(response.kind).toBe("need-back-to-source");
        a.backToSourceStarted("seed-peer");
      },
    }));
    resources.upsertHost(info("seed-1", "seed"), Date.now());
    const response = await announcements.register("h1", "t", "p1", download());
    expect(triggered).toEqual(["seed-1:t:true"]);
    expect(response.kind === "normal-task" && response.parents.map((p) => p.id)).toEqual(["seed-peer"]);
  });

  it("falls back to the source itself when the seed trigger fails", async () => {
    const { announcements, resources } = setup(() => ({ trigger: () => Promise.reject(new Error("seed down")) }));
    resources.upsertHost(info("seed-1", "seed"), Date.now());
    const response = await announcements.register("h1", "t", "p1", download());
    expect(response).toMatchObject({ kind: "need-back-to-source", description: "no parent found in 4 scheduling rounds" });
    expect(resources.tasks.get("t")!.seedFailedAt).toBeDefined();
  });

  it("answers an empty task at once", async () => {
    const { announcements } = setup();
    const response = await announcements.register("h1", "t", "p1", download({ contentLength: 0, pieceLength: 4 * 2 ** 20 }));
    expect(response).toEqual({ kind: "empty-task" });
  });

  it("blocks a parent that failed a piece, for that child only", async () => {
    const { announcements, resources } = setup();
    resources.upsertHost(info("h4"), Date.now());
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    await announcements.register("h2", "t", "p2", download());
    announcements.pieceFailed("p2", 0, "p1", false);
    expect(resources.tasks.get("t")!.dag.parents("p2")).toEqual([]);
    expect(resources.hosts.get("h1")!.assignedChildCount).toBe(0);
    await expect(announcements.reschedule("p2", [], true)).rejects.toThrow(/no parent for peer p2/);
    // Another source appears: the child is steered to it, never back to the failed parent.
    await announcements.register("h3", "t", "p3", download({ needBackToSource: true }));
    announcements.backToSourceStarted("p3");
    const rescheduled = await announcements.reschedule("p2", [], true);
    expect(rescheduled.kind === "normal-task" && rescheduled.parents.map((p) => p.id)).toEqual(["p3"]);
    expect(resources.hosts.get("h1")!.uploadFailedCount).toBe(1);
    // A different child may still use p1 (and p2, which now has a parent of its own).
    const other = await announcements.register("h4", "t", "p4", download());
    expect(other.kind === "normal-task" && other.parents.map((p) => p.id).sort()).toEqual(["p1", "p2", "p3"]);
  });

  it("blocks a parent for the whole task once hosts of two children got wrong bytes from it, not after one", async () => {
    const { announcements, resources } = setup();
    for (const id of ["h4", "h5"]) resources.upsertHost(info(id), Date.now());
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    await announcements.register("h2", "t", "p2", download());
    await announcements.register("h3", "t", "p3", download());
    const task = resources.tasks.get("t")!;
    // One child's word is not enough: it could be lying about a good parent.
    announcements.pieceFailed("p2", 0, "p1", false, true);
    expect(task.blockedParents.has("p1")).toBe(false);
    const before = await announcements.register("h4", "t", "p4", download());
    expect(before.kind === "normal-task" && before.parents.map((p) => p.id)).toContain("p1");
    // The same host again does not count twice; a second host does.
    announcements.pieceFailed("p2", 1, "p1", false, true);
    expect(task.blockedParents.has("p1")).toBe(false);
    announcements.pieceFailed("p3", 0, "p1", false, true);
    expect(task.blockedParents.has("p1")).toBe(true);
    expect(task.dag.children("p1")).toEqual([]);
    const after = await announcements.register("h5", "t", "p5", download());
    expect(after.kind === "normal-task" ? after.parents.map((p) => p.id) : []).not.toContain("p1");
  });

  it("counts reports of wrong bytes by the address hosts announced from: two hosts of one caller are one reporter", async () => {
    const { announcements, resources } = setup();
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    await announcements.register("h2", "t", "p2", download());
    await announcements.register("h3", "t", "p3", download());
    resources.hosts.get("h2")!.boundAddress = "10.0.0.66";
    resources.hosts.get("h3")!.boundAddress = "10.0.0.66";
    announcements.pieceFailed("p2", 0, "p1", false, true);
    announcements.pieceFailed("p3", 0, "p1", false, true);
    expect(resources.tasks.get("t")!.blockedParents.has("p1")).toBe(false);
  });

  it("keeps a parent that failed a piece temporarily, counting the failure against its host", async () => {
    const { announcements, resources } = setup();
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    await announcements.register("h2", "t", "p2", download());
    announcements.pieceFailed("p2", 0, "p1", true);
    const p2 = resources.peers.get("p2")!;
    expect(p2.blockedParents.has("p1")).toBe(false);
    expect(resources.tasks.get("t")!.dag.parents("p2")).toEqual(["p1"]);
    expect(resources.hosts.get("h1")!.uploadFailedCount).toBe(1);
    expect(resources.hosts.get("h1")!.assignedChildCount).toBe(1);
  });

  it("lets early peers take pieces from each other on a more-parents request, keeping their parents", async () => {
    const { announcements, resources } = setup();
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    await announcements.register("h2", "t", "p2", download());
    const p3 = await announcements.register("h3", "t", "p3", download());
    expect(p3.kind === "normal-task" && p3.parents.map((p) => p.id).sort()).toEqual(["p1", "p2"]);
    // p2 had only p1 when it was scheduled; p3 (a child of p2) gained pieces since.
    const more = announcements.moreParents("p2", ["p1"]);
    expect(more.kind === "normal-task" && more.parents.map((p) => p.id)).toEqual(["p3"]);
    const dag = resources.tasks.get("t")!.dag;
    expect(dag.parents("p2").sort()).toEqual(["p1", "p3"]);
    expect(dag.parents("p3").sort()).toEqual(["p1", "p2"]);
    expect([...resources.peers.get("p2")!.blockedParents]).toEqual(["p2"]);
    // Nobody else: an empty answer at once, the parents kept, no trip to the source.
    const none = announcements.moreParents("p2", ["p1", "p3"]);
    expect(none).toEqual({ kind: "normal-task", parents: [] });
    expect(dag.parents("p2").sort()).toEqual(["p1", "p3"]);
    expect(resources.tasks.get("t")!.backToSourcePeers).toEqual(new Set(["p1"]));
  });

  it("leaves listed parents out of a more-parents answer without blocking them", async () => {
    const { announcements, resources } = setup();
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    await announcements.register("h2", "t", "p2", download());
    const listed = announcements.moreParents("p2", ["p1-elsewhere", "p1"]);
    expect(listed).toEqual({ kind: "normal-task", parents: [] });
    resources.tasks.get("t")!.deleteInEdges(resources.peers.get("p2")!);
    const again = announcements.moreParents("p2", []);
    expect(again.kind === "normal-task" && again.parents.map((p) => p.id)).toEqual(["p1"]);
  });

  it("gives a finished peer no more parents", async () => {
    const { announcements, resources } = setup();
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    await announcements.register("h2", "t", "p2", download());
    announcements.peerFinished("p2", { contentLength: 10, pieceCount: 1, pieceLength: 10 });
    expect(announcements.moreParents("p2", [])).toEqual({ kind: "normal-task", parents: [] });
    expect(resources.tasks.get("t")!.dag.parents("p2")).toEqual([]);
  });

  it("never makes peers each other's parents when the graph must stay acyclic", async () => {
    const { announcements } = setup(undefined, false);
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    await announcements.register("h2", "t", "p2", download());
    await announcements.register("h3", "t", "p3", download());
    expect(announcements.moreParents("p2", [])).toEqual({ kind: "normal-task", parents: [] });
  });

  it("fails a P2P-only download that finds no parent, saying why", async () => {
    const { announcements } = setup();
    await expect(announcements.register("h1", "t", "p1", download({ disableBackToSource: true }))).rejects.toThrow(
      /no parent for peer p1 of task t after 5 rounds, and back-to-source is disabled for this download/,
    );
  });

  it("lets later peers fetch a finished task from the peer that holds it, without a seed", async () => {
    const triggered: string[] = [];
    const { announcements, resources } = setup(() => ({
      trigger: async (seed) => {
        triggered.push(seed.id);
      },
    }));
    await announcements.register("h1", "t", "p1", download());
    announcements.backToSourceStarted("p1");
    announcements.peerFinished("p1", { contentLength: 10, pieceCount: 1, pieceLength: 4 * 2 ** 20 });
    resources.upsertHost(info("seed-1", "seed"), Date.now());
    const response = await announcements.register("h2", "t", "p2", download());
    expect(response.kind === "normal-task" && response.parents.map((p) => p.id)).toEqual(["p1"]);
    expect(triggered).toEqual([]);
    expect(resources.tasks.get("t")!.state).toBe("running");
  });

  it("reports unknown peers and hosts with the fix", async () => {
    const { announcements } = setup();
    expect(() => announcements.downloadStarted("ghost")).toThrow(/peer ghost is not registered with this scheduler; register it first/);
    await expect(announcements.register("nohost", "t", "p", download())).rejects.toThrow(/announce the host first/);
  });
});
