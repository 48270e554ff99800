import { describe, expect, it } from "vitest";
import { RollingWindow } from "./rolling-window.js";

describe("RollingWindow", () => {
  it("keeps the newest values, oldest first", () => {
    const window = new RollingWindow(3);
    expect(window.toArray()).toEqual([]);
    for (const value of [1, 2, 3, 4, 5]) window.push(value);
    expect(window.toArray()).toEqual([3, 4, 5]);
    expect(window.length).toBe(3);
  });
});
