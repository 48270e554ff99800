import { describe, expect, it } from "vitest";
import { PieceSpread } from "./spread.js";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("PieceSpread", () => {
  it("refuses a piece to a second host while it goes to the first, and for the window after", () => {
    const time = clock();
    const spread = new PieceSpread(3000, time.now);
    const done = spread.admit("t", 5, "host-a");
    expect(() => spread.admit("t", 5, "host-b")).toThrow(expect.objectContaining({ code: "RESOURCE_EXHAUSTED", reason: "piece-spread" }));
    time.advance(60_000);
    // Still on its way to host-a, however long that takes.
    expect(() => spread.admit("t", 5, "host-b")).toThrow(expect.objectContaining({ reason: "piece-spread" }));
    done(true);
    time.advance(2999);
    expect(() => spread.admit("t", 5, "host-b")).toThrow(expect.objectContaining({ reason: "piece-spread" }));
    time.advance(1);
    expect(() => spread.admit("t", 5, "host-b")).not.toThrow();
  });

  it("frees a piece at once when its upload to the first host failed", () => {
    const spread = new PieceSpread(3000, clock().now);
    spread.admit("t", 5, "host-a")(false);
    expect(() => spread.admit("t", 5, "host-b")).not.toThrow();
  });

  it("serves the same host again, other pieces and other tasks at once, and anonymous callers always", () => {
    const spread = new PieceSpread(3000, clock().now);
    spread.admit("t", 5, "host-a");
    expect(() => spread.admit("t", 5, "host-a")).not.toThrow();
    expect(() => spread.admit("t", 6, "host-b")).not.toThrow();
    expect(() => spread.admit("u", 5, "host-b")).not.toThrow();
    expect(() => spread.admit("t", 5, undefined)).not.toThrow();
    expect(() => spread.admit("t", 5, "")).not.toThrow();
  });
});
