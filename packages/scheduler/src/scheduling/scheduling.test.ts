import type { Evaluator } from "@df/interface";
import { describe, expect, it } from "vitest";
import { Host, type HostInfo } from "../resource/host.js";
import { Peer } from "../resource/peer.js";
import { Task } from "../resource/task.js";
import { ParentSelector } from "./parent-selector.js";
import { addMoreParents, scheduleParents } from "./schedule.js";

let hostCounter = 0;
function host(overrides: Partial<HostInfo> = {}): Host {
  hostCounter++;
  return new Host(
    {
      id: `h${hostCounter}`,
      type: "normal",
      hostname: `host-${hostCounter}`,
      ip: "127.0.0.1",
      port: 4000 + hostCounter,
      downloadPort: 5000 + hostCounter,
      maxTxBandwidth: 1e10,
      txBandwidth: 0,
      concurrentUploadLimit: 200,
      announceIntervalMs: 30_000,
      disableShared: false,
      ...overrides,
    },
    0,
  );
}

function task(backToSourceLimit = 200, allowCycles = false): Task<Peer> {
  const t = new Task<Peer>("t1", { url: "http://origin/f", type: "STANDARD", filteredQueryParams: [], header: {}, backToSourceLimit }, 0, { allowCycles });
  t.setContent(100 * 2 ** 20, 4 * 2 ** 20, 25);
  return t;
}

function peer(t: Task<Peer>, id: string, state: "running" | "succeeded" | "back-to-source" | "received-normal", h = host()): Peer {
  const p = new Peer(id, t, h, { now: 0 });
  t.addPeer(p);
  p.fsm.fire("register-normal");
  if (state !== "received-normal") p.fsm.fire(state === "succeeded" ? "download-succeeded" : state === "running" ? "download" : "download-back-to-source");
  return p;
}

const byFinished: Evaluator = { name: "by-finished", score: (parent) => parent.finishedPieceCount / 25 };
const limits = () => ({ candidateParentLimit: 3, filterParentLimit: 15 });
const fast = { retryLimit: 5, retryBackToSourceLimit: 4, retryIntervalMs: 1 };

describe("ParentSelector", () => {
  it("returns the best-scored eligible parents, at most the limit", () => {
    const t = task();
    const child = peer(t, "child", "received-normal");
    const parents = ["a", "b", "c", "d"].map((id, i) => {
      const p = peer(t, id, "succeeded");
      for (let n = 0; n <= i * 5; n++) p.finishPiece(n, 10, 0);
      return p;
    });
    const selection = new ParentSelector([byFinished], limits).select(child);
    expect(selection.parents.map((p) => p.id)).toEqual(["d", "c", "b"]);
    expect(parents).toHaveLength(4);
  });

  it("filters itself, blocked parents, the same host, leech hosts, sourceless peers, bad parents and cycles", () => {
    const t = task();
    const childHost = host();
    const child = peer(t, "child", "running", childHost);
    peer(t, "same-host", "succeeded", childHost);
    peer(t, "leech", "succeeded", host({ disableShared: true }));
    peer(t, "idle", "running"); // no parent, not from source, not done: nothing to give
    peer(t, "blocked", "succeeded");
    child.blockedParents.add("blocked");
    peer(t, "slow", "succeeded");
    const grandchild = peer(t, "grandchild", "succeeded");
    t.addEdge(child, grandchild); // grandchild → child would close a cycle
    const good = peer(t, "good", "back-to-source");
    const seed = peer(t, "seed", "received-normal", host({ type: "seed" }));
    const sigmaLike: Evaluator = { name: "no-slow", isBadParent: (p) => p.id === "slow" };
    const selection = new ParentSelector([sigmaLike, byFinished], () => ({ candidateParentLimit: 10, filterParentLimit: 100 })).select(child);
    expect(selection.parents.map((p) => p.id).sort()).toEqual([good.id, seed.id].sort());
    expect(selection.dropped).toEqual({
      "same-host": 1,
      "not-shared": 1,
      "no-source": 1,
      blocked: 1,
      "bad-parent": 1,
      "would-cycle": 1,
    });
  });

  it("hands out a peer that lost its parents but holds pieces", () => {
    const t = task(200, true);
    const child = peer(t, "child", "running");
    const orphan = peer(t, "orphan", "running");
    peer(t, "empty", "running");
    orphan.finishPiece(0, 10, Date.now());
    const selection = new ParentSelector([byFinished], () => ({ candidateParentLimit: 10, filterParentLimit: 100 })).select(child);
    expect(selection.parents.map((p) => p.id)).toEqual(["orphan"]);
    expect(selection.dropped).toEqual({ "no-source": 1 });
  });

  it("with cycles allowed, hands a child its own children as parents; the other filters stay", () => {
    const t = task(200, true);
    const child = peer(t, "child", "running");
    const grandchild = peer(t, "grandchild", "running");
    const greatGrandchild = peer(t, "great-grandchild", "running");
    t.addEdge(child, grandchild);
    t.addEdge(grandchild, greatGrandchild);
    peer(t, "idle", "running");
    const selection = new ParentSelector([byFinished], () => ({ candidateParentLimit: 10, filterParentLimit: 100 })).select(child);
    expect(selection.parents.map((p) => p.id).sort()).toEqual(["grandchild", "great-grandchild"]);
    expect(selection.dropped).toEqual({ "no-source": 1 });
  });

  it("samples at most filterParentLimit peers", () => {
    const t = task();
    const child = peer(t, "child", "received-normal");
    for (let i = 0; i < 40; i++) peer(t, `p${i}`, "succeeded");
    const selection = new ParentSelector([byFinished], () => ({ candidateParentLimit: 3, filterParentLimit: 15 })).select(child);
    expect(selection.sampled).toBe(15);
    expect(selection.parents).toHaveLength(3);
  });
});

describe("scheduleParents", () => {
  it("adds edges to the chosen parents and books their hosts' load", async () => {
    const t = task();
    const child = peer(t, "child", "received-normal");
    const parent = peer(t, "parent", "succeeded");
    const outcome = await scheduleParents(child, new ParentSelector([byFinished], limits), fast);
    expect(outcome).toMatchObject({ kind: "parents", rounds: 1 });
    expect(t.parentsOf(child).map((p) => p.id)).toEqual(["parent"]);
    expect(parent.host.concurrentUploadCount).toBe(1);
    expect(parent.host.txBandwidth).toBe(4 * 2 ** 20 * 8 * 8);
    t.deleteInEdges(child);
    expect(parent.host.concurrentUploadCount).toBe(0);
    expect(parent.host.txBandwidth).toBe(0);
  });

  it("sends a peer that asked for it straight to the source, booking the quota", async () => {
    const t = task();
    const child = peer(t, "child", "received-normal");
    child.needBackToSource = true;
    const outcome = await scheduleParents(child, new ParentSelector([byFinished], limits), fast);
    expect(outcome).toMatchObject({ kind: "back-to-source", rounds: 0 });
    expect(t.backToSourcePeers.has("child")).toBe(true);
  });

  it("goes back to source after retryBackToSourceLimit empty rounds", async () => {
    const t = task();
    // A peer that holds nothing yet may soon: worth the rounds.
    peer(t, "newcomer", "received-normal");
    const child = peer(t, "child", "received-normal");
    const rounds: number[] = [];
    const outcome = await scheduleParents(child, new ParentSelector([byFinished], limits), fast, {
      onRound: (round) => rounds.push(round),
    });
    expect(outcome).toMatchObject({ kind: "back-to-source", rounds: 4 });
    expect(rounds).toEqual([0, 1, 2, 3]);
  });

  it("goes back to source at once when no other peer of the task can ever be a parent", async () => {
    const t = task();
    const stalled = peer(t, "stalled", "succeeded");
    const child = peer(t, "child", "received-normal");
    child.blockedParents.add(stalled.id);
    const rounds: number[] = [];
    const outcome = await scheduleParents(child, new ParentSelector([byFinished], limits), { ...fast, retryIntervalMs: 10_000 }, {
      onRound: (round) => rounds.push(round),
    });
    expect(outcome).toMatchObject({ kind: "back-to-source", rounds: 1, reason: "no other peer of the task can be a parent (1 blocked)" });
    expect(rounds).toEqual([0]);
  });

  it("fails after retryLimit rounds when the back-to-source quota is used up", async () => {
    const t = task(1);
    t.backToSourcePeers.add("someone-else");
    const child = peer(t, "child", "received-normal");
    await expect(scheduleParents(child, new ParentSelector([byFinished], limits), fast)).rejects.toThrow(
      /no parent for peer child of task t1 after 5 rounds.*quota \(1 peers at once\) is used up/,
    );
  });

  it("stops when cancelled", async () => {
    const t = task();
    const child = peer(t, "child", "received-normal");
    const controller = new AbortController();
    const pending = scheduleParents(child, new ParentSelector([byFinished], limits), { ...fast, retryIntervalMs: 10_000 }, {
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toThrow(/cancelled/);
  });
});

describe("addMoreParents", () => {
  it("adds parents beside the current ones, leaving out the graph's and the listed ones without blocking them", () => {
    const t = task(200, true);
    const seed = peer(t, "seed", "back-to-source", host({ type: "seed" }));
    const child = peer(t, "child", "running");
    t.addEdge(seed, child);
    const listed = peer(t, "listed", "succeeded");
    const sibling = peer(t, "sibling", "running");
    t.addEdge(seed, sibling);
    t.addEdge(child, sibling);
    const blocked = peer(t, "blocked", "succeeded");
    child.blockedParents.add(blocked.id);
    const rounds: number[] = [];
    const added = addMoreParents(child, new ParentSelector([byFinished], limits), ["listed"], (round) => rounds.push(round));
    expect(added.map((p) => p.id)).toEqual(["sibling"]);
    expect(rounds).toEqual([0]);
    expect(t.parentsOf(child).map((p) => p.id).sort()).toEqual(["seed", "sibling"]);
    expect(t.parentsOf(sibling).map((p) => p.id).sort()).toEqual(["child", "seed"]);
    expect(child.blockedParents.has(listed.id)).toBe(false);
    expect(sibling.host.concurrentUploadCount).toBe(1);
  });

  it("keeps the excluded parents out of the sample, so they take no place in it", () => {
    const t = task(200, true);
    const child = peer(t, "child", "running");
    for (const id of ["a", "b", "c"]) t.addEdge(peer(t, id, "succeeded"), child);
    peer(t, "new", "succeeded");
    const added = addMoreParents(child, new ParentSelector([byFinished], () => ({ candidateParentLimit: 3, filterParentLimit: 1 })), []);
    expect(added.map((p) => p.id)).toEqual(["new"]);
  });

  it("answers nothing, at once, when no one new qualifies, and keeps the parents it has", () => {
    const t = task(200, true);
    const seed = peer(t, "seed", "back-to-source");
    const child = peer(t, "child", "running");
    t.addEdge(seed, child);
    peer(t, "idle", "running");
    expect(addMoreParents(child, new ParentSelector([byFinished], limits), [])).toEqual([]);
    expect(t.parentsOf(child)).toEqual([seed]);
    expect(t.backToSourcePeers.size).toBe(0);
  });

  it("never hands a child its own descendant when the task's graph must stay acyclic", () => {
    const t = task(200, false);
    const seed = peer(t, "seed", "back-to-source");
    const child = peer(t, "child", "running");
    const sibling = peer(t, "sibling", "running");
    t.addEdge(seed, child);
    t.addEdge(child, sibling);
    const dropped: unknown[] = [];
    expect(addMoreParents(child, new ParentSelector([byFinished], limits), [], (_, selection) => dropped.push(selection.dropped))).toEqual([]);
    expect(dropped).toEqual([{ "would-cycle": 1 }]);
  });
});
