import { describe, expect, it } from "vitest";
import { deepFreeze, evaluatorFixtures, makeHost, makePeer, PEER_STATES } from "./evaluator-fixtures.js";

describe("evaluator fixtures", () => {
  it("builds hosts and peers from defaults plus overrides", () => {
    expect(makeHost({ idc: "x" })).toMatchObject({ id: "host", type: "normal", idc: "x", concurrentUploadLimit: 200 });
    const peer = makePeer({ id: "p", state: "failed", host: { type: "seed", txBandwidth: 5 } });
    expect(peer).toMatchObject({ id: "p", state: "failed", finishedPieceCount: 0, pieceCosts: [] });
    expect(peer.host).toMatchObject({ id: "host", type: "seed", txBandwidth: 5, maxTxBandwidth: 10_000_000_000 });
  });

  it("freezes everything reachable", () => {
    const value = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
    expect(() => {
      (value.a.b as unknown[]).push(3);
    }).toThrow(TypeError);
  });

  it("is frozen by default and writable on request, a fresh copy each time", () => {
    const frozen = evaluatorFixtures();
    expect(Object.isFrozen(frozen.parents[0]!.pieceCosts)).toBe(true);
    expect(Object.isFrozen(frozen.contexts[0])).toBe(true);
    const writable = evaluatorFixtures({ freeze: false });
    expect(Object.isFrozen(writable.parents[0]!.host)).toBe(false);
    expect(writable.parents.find((p) => p.pieceCosts.length > 0)!.pieceCosts).not.toBe(
      frozen.parents.find((p) => p.pieceCosts.length > 0)!.pieceCosts,
    );
    expect(writable).toStrictEqual(evaluatorFixtures({ freeze: false }));
  });

  it("covers every state with every progress and cost history, both host types and the edge values", () => {
    const { parents, children, contexts } = evaluatorFixtures();
    for (const state of PEER_STATES) {
      const inState = parents.filter((p) => p.state === state);
      expect(new Set(inState.map((p) => p.finishedPieceCount)).size, state).toBe(5);
      expect(new Set(inState.map((p) => p.pieceCosts.length)).size, state).toBe(8);
    }
    expect(new Set(parents.map((p) => p.host.type))).toEqual(new Set(["normal", "seed"]));
    expect(parents.some((p) => p.host.maxTxBandwidth === 0)).toBe(true);
    expect(parents.some((p) => p.host.uploadCount === 0)).toBe(true);
    expect(parents.some((p) => p.host.uploadFailedCount > p.host.uploadCount)).toBe(true);
    expect(parents.some((p) => p.host.txBandwidth > p.host.maxTxBandwidth && p.host.maxTxBandwidth > 0)).toBe(true);
    expect(parents.some((p) => p.host.maxTxBandwidth === Number.MAX_VALUE)).toBe(true);
    expect(parents.some((p) => p.host.idc === undefined) && parents.some((p) => p.host.idc === "IDC-A")).toBe(true);
    expect(children.some((c) => c.host.idc === "idc-a" && c.host.location === "cn|zj|hz|az1|rack1")).toBe(true);
    expect(contexts.map((c) => c.totalPieceCount)).toContain(0);
  });
});
