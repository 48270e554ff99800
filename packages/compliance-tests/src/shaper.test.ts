import type { ShapedTask, TrafficShaper } from "@df/interface";
import { describe, expect, it } from "vitest";
import { checkChurnKeepsLimitsSane, checkCountsUsage, checkHoldsTaskToItsLimit, checkShaperShape, checkStop, checkUnknownTaskPasses } from "./shaper-checks.js";

/** A shaper that gets everything wrong in ways a check can be pointed at. */
function brokenShaper(flaw: "ignores-limit" | "forgets-usage" | "nan-limits" | "hangs-on-stop" | "blocks-unknown" | "no-name"): TrafficShaper {
  const tasks = new Set<string>();
  let recorded = 0;
  let hang: Promise<void> | undefined;
  return {
    name: flaw === "no-name" ? "" : `broken-${flaw}`,
    start() {},
    stop() {},
    addTask(task: ShapedTask) {
      tasks.add(task.taskId);
    },
    removeTask(taskId: string) {
      tasks.delete(taskId);
    },
    acquire(taskId: string) {
      if (flaw === "blocks-unknown" && !tasks.has(taskId)) return new Promise(() => {});
      if (flaw === "hangs-on-stop" && tasks.has(taskId)) return (hang ??= new Promise(() => {}));
      return Promise.resolve();
    },
    record(_taskId: string, bytes: number) {
      if (flaw !== "forgets-usage") recorded += bytes;
    },
    limitOf(taskId: string) {
      if (!tasks.has(taskId)) return Infinity;
      if (flaw === "nan-limits") return Number.NaN;
      return flaw === "ignores-limit" ? 1024 : Infinity;
    },
    lastSecondUsage() {
      return recorded;
    },
  };
}

describe("the shaper checks catch broken shapers", () => {
  it("a nameless shaper", () => {
    expect(() => checkShaperShape(brokenShaper("no-name"))).toThrow(/name/);
  });
  it("a shaper that announces a limit but lets everything through", async () => {
    await expect(checkHoldsTaskToItsLimit(brokenShaper("ignores-limit"))).rejects.toThrow(/under a limit of 1024/);
  });
  it("a shaper that forgets usage", async () => {
    await expect(checkCountsUsage(brokenShaper("forgets-usage"))).rejects.toThrow(/last full second/);
  });
  it("a shaper whose limits turn NaN", async () => {
    await expect(checkChurnKeepsLimitsSane(brokenShaper("nan-limits"))).rejects.toThrow(/NaN/);
  });
  it("a shaper that blocks tasks it never added", async () => {
    await expect(checkUnknownTaskPasses(brokenShaper("blocks-unknown"))).rejects.toThrow(/still pending/);
  });
  it("a shaper whose stop leaves acquires passing", async () => {
    await expect(checkStop(brokenShaper("forgets-usage"))).rejects.toThrow(/acquire after stop rejects/);
  });
});
