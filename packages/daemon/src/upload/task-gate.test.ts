import { describe, expect, it } from "vitest";
import { TaskUploadGate } from "./task-gate.js";
import { settled } from "./test-support/settled.js";

describe("TaskUploadGate", () => {
  it("serves at most perTask uploads of one task and queues the next until one ends", async () => {
    const gate = new TaskUploadGate(2, 5000);
    const running = [await gate.acquire("task-a"), await gate.acquire("task-a")];
    const third = gate.acquire("task-a");
    expect(await settled(third)).toBe(false);
    running[0]!.release(true);
    const admitted = await third;
    admitted.release(true);
    running[1]!.release(true);
  });

  it("counts each task on its own: a busy task does not hold back another", async () => {
    const gate = new TaskUploadGate(1, 5000);
    const a = await gate.acquire("task-a");
    const b = gate.acquire("task-b");
    expect(await settled(b)).toBe(true);
    (await b).release(true);
    a.release(true);
  });

  it("refuses a queued upload as busy, naming the task, when no slot frees up in time", async () => {
    const gate = new TaskUploadGate(1, 30);
    const held = await gate.acquire("task-a");
    await expect(gate.acquire("task-a")).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      reason: "upload-busy",
      message: expect.stringContaining("task-a"),
    });
    held.release(true);
    expect(gate.tasks).toBe(0);
  });

  it("forgets a task once nothing of it runs or waits, and a release twice frees one slot", async () => {
    const gate = new TaskUploadGate(1, 5000);
    const first = await gate.acquire("task-a");
    const queued = gate.acquire("task-a");
    expect(gate.tasks).toBe(1);
    first.release(true);
    first.release(true);
    const second = await queued;
    const third = gate.acquire("task-a");
    expect(await settled(third)).toBe(false);
    second.release(false);
    (await third).release(true);
    expect(gate.tasks).toBe(0);
  });

  it("gives up a queued upload when its request is aborted", async () => {
    const gate = new TaskUploadGate(1, 5000);
    const held = await gate.acquire("task-a");
    const controller = new AbortController();
    const queued = gate.acquire("task-a", controller.signal);
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: "CANCELLED" });
    held.release(true);
    expect(gate.tasks).toBe(0);
  });
});
