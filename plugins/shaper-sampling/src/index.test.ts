import { describeShaperCompliance, describeShaperDefinitionCompliance } from "@df/compliance-tests";
import { describe, expect, it } from "vitest";
import definition, { SamplingShaper, admitTask, divideTotal, releaseTask, type TaskSample } from "./index.js";

describeShaperCompliance("sampling", (limits) => new SamplingShaper({ totalRateLimit: limits.totalRateLimit }));
describeShaperCompliance("sampling (100 ms interval)", (limits) => new SamplingShaper({ totalRateLimit: limits.totalRateLimit, intervalMs: 100 }));
describeShaperDefinitionCompliance(definition, { invalidOptions: { intervalMs: 0 }, invalidField: "intervalMs", validOptions: { intervalMs: 500, totalRateLimit: "10Mi" } });

const MiB = 2 ** 20;
const piece = 4 * MiB;

/** A sampling shaper on a hand-driven clock. */
function driven(total: number) {
  let now = 0;
  const shaper = new SamplingShaper({ totalRateLimit: total, now: () => now });
  return {
    shaper,
    /** Records `bytes` for each task, then moves the clock one second and re-divides. */
    second(used: Record<string, number>) {
      for (const [taskId, bytes] of Object.entries(used)) shaper.record(taskId, bytes);
      now += 1000;
      shaper.resample();
    },
  };
}

describe("sampling shaper", () => {
  it("gives one task the whole total at once, and keeps it there", () => {
    const { shaper, second } = driven(40 * MiB);
    shaper.addTask({ taskId: "a", pieceLength: piece, contentLength: 1024 * MiB });
    expect(shaper.limitOf("a")).toBe(40 * MiB);
    second({ a: 40 * MiB });
    expect(shaper.limitOf("a")).toBe(40 * MiB);
    // Idle for a second (parents were slow): the total is still all its to take.
    second({ a: 0 });
    expect(shaper.limitOf("a")).toBe(40 * MiB);
  });

  it("starts a new task at the average and scales everyone to fit", () => {
    const { shaper } = driven(40 * MiB);
    shaper.addTask({ taskId: "a", pieceLength: piece });
    shaper.addTask({ taskId: "b", pieceLength: piece });
    expect([shaper.limitOf("a"), shaper.limitOf("b")]).toEqual([20 * MiB, 20 * MiB]);
    shaper.addTask({ taskId: "c", pieceLength: piece });
    for (const id of ["a", "b", "c"]) expect(shaper.limitOf(id)).toBeCloseTo((40 * MiB) / 3, 3);
  });

  it("hands a finished task's share back to the others", () => {
    const { shaper } = driven(40 * MiB);
    for (const id of ["a", "b", "c", "d"]) shaper.addTask({ taskId: id, pieceLength: piece });
    shaper.removeTask("d");
    for (const id of ["a", "b", "c"]) expect(shaper.limitOf(id)).toBeCloseTo((40 * MiB) / 3, 3);
    shaper.removeTask("a");
    shaper.removeTask("b");
    expect(shaper.limitOf("c")).toBeCloseTo(40 * MiB, 3);
  });

  it("gives a task that uses little one piece plus its share of use, and the rest to the busy one", () => {
    const { shaper, second } = driven(40 * MiB);
    shaper.addTask({ taskId: "slow", pieceLength: piece });
    shaper.addTask({ taskId: "busy", pieceLength: piece });
    // The first second: both fresh, so both count as using at least their limit.
    second({ slow: 4 * MiB, busy: 20 * MiB });
    expect(shaper.limitOf("slow")).toBeCloseTo(20 * MiB, 3);
    // Then slow uses 5 MiB/s: need beyond its piece 1, busy's 16; rest 32 → 4 + 32/17, 4 + 32·16/17.
    second({ slow: 5 * MiB, busy: 20 * MiB });
    expect(shaper.limitOf("slow") / MiB).toBeCloseTo(4 + 32 / 17, 6);
    expect(shaper.limitOf("busy") / MiB).toBeCloseTo(4 + (32 * 16) / 17, 6);
  });

  it("caps a task's share by what it has left to download", () => {
    const { shaper, second } = driven(40 * MiB);
    shaper.addTask({ taskId: "ending", pieceLength: piece, contentLength: 28 * MiB, completedBytes: 4 * MiB });
    shaper.addTask({ taskId: "long", pieceLength: piece });
    second({ ending: 20 * MiB, long: 20 * MiB });
    // ending has 4 MiB left: need min(20, 4) − 4 = 0, so one piece; long gets the rest.
    expect(shaper.limitOf("ending")).toBeCloseTo(4 * MiB, 3);
    expect(shaper.limitOf("long")).toBeCloseTo(36 * MiB, 3);
  });

  it("never divides by zero: idle tasks share the rest equally", () => {
    const { shaper, second } = driven(40 * MiB);
    shaper.addTask({ taskId: "a", pieceLength: piece });
    shaper.addTask({ taskId: "b", pieceLength: piece });
    second({});
    second({});
    expect(shaper.limitOf("a")).toBeCloseTo(20 * MiB, 3);
    expect(shaper.limitOf("b")).toBeCloseTo(20 * MiB, 3);
  });

  it("keeps every task at one piece per second when pieces exceed the total", () => {
    const { shaper, second } = driven(6 * MiB);
    shaper.addTask({ taskId: "a", pieceLength: piece });
    shaper.addTask({ taskId: "b", pieceLength: piece });
    expect(shaper.limitOf("a")).toBe(piece);
    second({ a: piece, b: 0 });
    expect(shaper.limitOf("a")).toBe(piece);
    expect(shaper.limitOf("b")).toBe(piece);
  });
});

describe("divideTotal", () => {
  const sample = (rate: number, used: number, extra: Partial<TaskSample> = {}) => ({
    rate: rate * MiB,
    used: used * MiB,
    pieceLength: piece,
    fresh: false,
    remaining: Infinity,
    saturated: false,
    ...extra,
  });

  it("splits equally between tasks that were both held back by their limits", () => {
    // Upstream would keep 4 + 32·(12−4)/(12−4+28−4) = 12 and 28: noise frozen in.
    const rates = divideTotal(40 * MiB, [sample(12, 12, { saturated: true }), sample(28, 28, { saturated: true })]);
    expect(rates.map((r) => r / MiB)).toEqual([20, 20]);
  });

  it("leaves a task limited by something else at its use plus one piece", () => {
    const rates = divideTotal(40 * MiB, [sample(20, 5), sample(20, 20, { saturated: true })]);
    expect(rates[0]! / MiB).toBeCloseTo(4 + 32 / 17, 9);
    expect(rates[1]! / MiB).toBeCloseTo(4 + (32 * 16) / 17, 9);
  });

  it("does not pool a saturated task about to finish", () => {
    const rates = divideTotal(40 * MiB, [sample(20, 20, { saturated: true, remaining: 6 * MiB }), sample(20, 20, { saturated: true })]);
    // ending: min(20, 6) − 4 = 2; long: 16 → 4 + 32·2/18 and 4 + 32·16/18.
    expect(rates[0]! / MiB).toBeCloseTo(4 + 64 / 18, 9);
    expect(rates[1]! / MiB).toBeCloseTo(4 + 512 / 18, 9);
  });

  it("returns nothing for no tasks, and finite rates for zero use", () => {
    expect(divideTotal(40 * MiB, [])).toEqual([]);
    expect(divideTotal(40 * MiB, [sample(20, 0), sample(20, 0)]).map((r) => r / MiB)).toEqual([20, 20]);
  });
});

describe("admitTask and releaseTask", () => {
  it("admit: the new task starts at total ÷ running, then all scale to the total", () => {
    const rates = admitTask(40 * MiB, [{ rate: 30 * MiB, pieceLength: piece }, { rate: 10 * MiB, pieceLength: piece }], piece);
    // initial 40 / 2 = 20; sum 60; ratio 2/3 → 20, 6.67, 13.33
    const expected = [20, 20 / 3, 40 / 3];
    rates.forEach((rate, i) => expect(rate / MiB).toBeCloseTo(expected[i]!, 9));
  });

  it("release: the rest scale back up to the total, never down, never by 0/0", () => {
    expect(releaseTask(40 * MiB, [{ rate: 10 * MiB, pieceLength: piece }, { rate: 10 * MiB, pieceLength: piece }]).map((r) => r / MiB)).toEqual([20, 20]);
    expect(releaseTask(4 * MiB, [{ rate: 4 * MiB, pieceLength: piece }, { rate: 4 * MiB, pieceLength: piece }]).map((r) => r / MiB)).toEqual([4, 4]);
    expect(releaseTask(40 * MiB, [])).toEqual([]);
  });
});
