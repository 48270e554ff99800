import { describe, expect, it } from "vitest";
import { PieceSpread, SPREADING_LISTED } from "./spread.js";

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

  it("names in a refusal the task's other pieces the caller would be refused now, so one round trip tells them all", () => {
    const time = clock();
    const spread = new PieceSpread(3000, time.now);
    spread.admit("t", 1, "host-a")(true);
    time.advance(3000); // piece 1's window is over
    spread.admit("t", 7, "host-a");
    spread.admit("t", 3, "host-c")(true);
    spread.admit("t", 4, "host-b"); // the caller's own
    spread.admit("t", 9, "host-a")(false); // failed: free again
    spread.admit("u", 2, "host-a"); // another task
    let refusal: unknown;
    try {
      spread.admit("t", 7, "host-b");
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ reason: "piece-spread", details: { number: 7, spreading: [3, 7] } });
  });

  it("lists only the latest first copies, so a refusal stays small on a task of many pieces", () => {
    const spread = new PieceSpread(3000, clock().now);
    for (let n = 0; n < SPREADING_LISTED * 3; n++) spread.admit("t", n, "host-a");
    let listed: unknown;
    try {
      spread.admit("t", SPREADING_LISTED * 3 - 1, "host-b");
    } catch (error) {
      listed = (error as { details: { spreading: number[] } }).details.spreading;
    }
    expect(listed).toHaveLength(SPREADING_LISTED);
    expect((listed as number[])[0]).toBe(SPREADING_LISTED * 2);
  });
});
