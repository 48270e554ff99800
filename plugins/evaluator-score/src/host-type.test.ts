import type { PeerState } from "@df/interface";
import { describe, expect, it } from "vitest";
import { hostTypeScore } from "./host-type.js";

const peer = (type: "normal" | "seed", state: PeerState) => ({ state, host: { type } });

describe("hostTypeScore", () => {
  it("is 0.5 for a normal host in any state", () => {
    for (const state of ["running", "succeeded", "back-to-source", "failed"] as const) {
      expect(hostTypeScore(peer("normal", state))).toBe(0.5);
    }
  });

  it("is 1 for a seed host while its peer fetches the task", () => {
    expect(hostTypeScore(peer("seed", "received-normal"))).toBe(1);
    expect(hostTypeScore(peer("seed", "running"))).toBe(1);
    expect(hostTypeScore(peer("seed", "back-to-source"))).toBe(1);
  });

  it("is 0 for a seed host that holds the task already or is not fetching it", () => {
    expect(hostTypeScore(peer("seed", "succeeded"))).toBe(0);
    expect(hostTypeScore(peer("seed", "pending"))).toBe(0);
    expect(hostTypeScore(peer("seed", "failed"))).toBe(0);
    expect(hostTypeScore(peer("seed", "received-small"))).toBe(0);
  });
});
