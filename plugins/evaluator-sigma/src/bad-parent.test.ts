import { makePeer, PEER_STATES } from "@df/compliance-tests";
import { describe, expect, it } from "vitest";
import { judgeParent, SERVING_STATES } from "./bad-parent.js";
import { parseSigmaOptions } from "./options.js";

const rule = parseSigmaOptions();

describe("judgeParent", () => {
  it("calls every non-serving state bad, even with a clean history", () => {
    const bad = PEER_STATES.filter((state) => !SERVING_STATES.has(state));
    expect(bad).toEqual(["pending", "received-empty", "received-tiny", "received-small", "received-normal", "failed", "left"]);
    for (const state of bad) {
      expect(judgeParent(makePeer({ state, pieceCosts: [10, 10, 10] }), rule), state).toEqual({ bad: true, rule: "state", state });
    }
  });

  it("judges parents still downloading by their costs", () => {
    for (const state of ["running", "back-to-source"] as const) {
      expect(judgeParent(makePeer({ state }), rule).bad, state).toBe(false);
      expect(judgeParent(makePeer({ state, pieceCosts: [10, 10, 10, 201] }), rule).bad, state).toBe(true);
      expect(judgeParent(makePeer({ state, pieceCosts: [10, 10, 10, 199] }), rule).bad, state).toBe(false);
    }
  });

  it("never holds a finished download's last slow piece against a parent that has every piece", () => {
    const costs = [...Array.from({ length: 63 }, (_, i) => 30 + (i % 7)), 500];
    expect(judgeParent(makePeer({ state: "running", pieceCosts: costs }), rule).bad).toBe(true);
    expect(judgeParent(makePeer({ state: "succeeded", pieceCosts: costs }), rule)).toEqual({ bad: false, rule: "finished" });
  });
});
