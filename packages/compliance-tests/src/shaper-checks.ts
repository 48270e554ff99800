import { hasErrorCode, isPluginDefinition, missingMembers, type ShaperLimits, type TrafficShaper } from "@df/interface";
import { resolvePlugin } from "@df/service-kit";
import { expect } from "vitest";

// Each check takes a fresh shaper (made with `COMPLIANCE_LIMITS`) and stops it itself.
// The suite's own tests run them on deliberately broken shapers to prove they can fail.

const KiB = 1024;
/** Small limits so that pacing shows within a fraction of a second. */
export const COMPLIANCE_LIMITS: ShaperLimits = { totalRateLimit: 2048 * KiB, perPeerRateLimit: 1024 * KiB };
const PIECE = 64 * KiB;

const task = (taskId: string, contentLength = 64 * PIECE) => ({ taskId, contentLength, pieceLength: PIECE });

/** Resolves within `ms`, else fails with `what`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function settle(promise: Promise<unknown>): Promise<"resolved" | unknown> {
  return promise.then(
    () => "resolved",
    (error: unknown) => error,
  );
}

export function checkShaperShape(shaper: TrafficShaper): void {
  expect(typeof shaper.name === "string" && shaper.name.length > 0, "shaper.name is a non-empty string").toBe(true);
  expect(missingMembers("shaper", shaper), "members a shaper lacks").toEqual([]);
}

export async function checkUnknownTaskPasses(shaper: TrafficShaper): Promise<void> {
  shaper.start();
  try {
    await within(shaper.acquire("never-added", 10 * 1024 * KiB), 200, "acquire for a task never added");
    expect(shaper.limitOf("never-added"), "limitOf a task never added").toBe(Infinity);
    expect(() => shaper.removeTask("never-added"), "removing a task never added").not.toThrow();
  } finally {
    shaper.stop();
  }
}

export async function checkFirstPiecePasses(shaper: TrafficShaper): Promise<void> {
  shaper.start();
  try {
    shaper.addTask(task("first"));
    const limit = shaper.limitOf("first");
    expect(limit > 0, `limitOf a running task is positive, got ${limit}`).toBe(true);
    await within(shaper.acquire("first", PIECE), 200, "the first piece of a new task");
  } finally {
    shaper.stop();
  }
}

/**
 * A task's pieces pass no faster than its announced limit (plus one burst), measured on
 * the real clock; shapers with no per-task limit pass them at once.
 */
export async function checkHoldsTaskToItsLimit(shaper: TrafficShaper): Promise<void> {
  shaper.start();
  try {
    shaper.addTask(task("paced"));
    const limit = shaper.limitOf("paced");
    const started = performance.now();
    let bytes = 0;
    // Enough pieces for about half a second at the limit (a bounded count when unlimited).
    const pieces = limit === Infinity ? 64 : Math.max(4, Math.ceil((limit * 0.5) / PIECE));
    await within(
      (async () => {
        for (let i = 0; i < pieces; i++) {
          await shaper.acquire("paced", PIECE);
          shaper.record("paced", PIECE);
          bytes += PIECE;
        }
      })(),
      limit === Infinity ? 500 : 4000,
      `acquiring ${pieces} pieces`,
    );
    if (limit === Infinity) return;
    const seconds = (performance.now() - started) / 1000;
    // One burst of up to a second's worth may pass at once; beyond it, the limit holds.
    const allowed = limit * seconds + Math.max(limit, PIECE) + PIECE;
    expect(bytes, `${bytes} bytes passed in ${seconds.toFixed(3)} s under a limit of ${limit} B/s`).toBeLessThanOrEqual(allowed);
  } finally {
    shaper.stop();
  }
}

export async function checkCountsUsage(shaper: TrafficShaper): Promise<void> {
  shaper.start();
  try {
    shaper.addTask(task("counted"));
    expect(shaper.lastSecondUsage(), "usage before anything was recorded").toBe(0);
    shaper.record("counted", 1000);
    shaper.record("not-added", 500);
    // The bytes show once their second is over: poll for it, boundedly.
    const deadline = performance.now() + 2500;
    while (shaper.lastSecondUsage() < 1500 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(shaper.lastSecondUsage(), "bytes recorded across tasks during the last full second").toBe(1500);
  } finally {
    shaper.stop();
  }
}

export async function checkRejectsBadArguments(shaper: TrafficShaper): Promise<void> {
  shaper.start();
  try {
    for (const bytes of [-1, Number.NaN, Infinity]) {
      expect(hasErrorCode(await settle(shaper.acquire("any", bytes)), "INVALID_ARGUMENT"), `acquire(${bytes}) rejects INVALID_ARGUMENT`).toBe(true);
      let thrown: unknown;
      try {
        shaper.record("any", bytes);
      } catch (error) {
        thrown = error;
      }
      expect(hasErrorCode(thrown, "INVALID_ARGUMENT"), `record(${bytes}) throws INVALID_ARGUMENT`).toBe(true);
    }
    for (const bad of [{ taskId: "", pieceLength: PIECE }, { taskId: "t", pieceLength: 0 }, { taskId: "t", pieceLength: PIECE, contentLength: -5 }]) {
      let thrown: unknown;
      try {
        shaper.addTask(bad);
      } catch (error) {
        thrown = error;
      }
      expect(hasErrorCode(thrown, "INVALID_ARGUMENT"), `addTask(${JSON.stringify(bad)}) throws INVALID_ARGUMENT`).toBe(true);
    }
  } finally {
    shaper.stop();
  }
}

/** Saturates a task's limit so that the next acquire must wait; returns false when it never waits. */
async function saturate(shaper: TrafficShaper, taskId: string): Promise<boolean> {
  if (shaper.limitOf(taskId) === Infinity) return false;
  for (let i = 0; i < 200; i++) {
    const pending = shaper.acquire(taskId, PIECE);
    const outcome = await Promise.race([pending.then(() => "passed"), new Promise((resolve) => setTimeout(() => resolve("waiting"), 5))]);
    if (outcome === "waiting") {
      await pending.catch(() => {});
      return true;
    }
  }
  return false;
}

export async function checkAbortedWait(shaper: TrafficShaper): Promise<void> {
  shaper.start();
  try {
    shaper.addTask(task("aborted"));
    expect(hasErrorCode(await settle(shaper.acquire("aborted", PIECE, { signal: AbortSignal.abort() })), "CANCELLED"), "an already aborted acquire rejects CANCELLED").toBe(
      true,
    );
    if (!(await saturate(shaper, "aborted"))) return;
    const abort = new AbortController();
    const waiting = shaper.acquire("aborted", PIECE, { signal: abort.signal });
    setTimeout(() => abort.abort(), 10);
    const outcome = await within(settle(waiting), 1000, "an aborted wait");
    expect(outcome === "resolved" || hasErrorCode(outcome, "CANCELLED"), "an aborted wait ends, rejecting CANCELLED unless it was granted").toBe(true);
  } finally {
    shaper.stop();
  }
}

export async function checkRemoveReleasesWaiters(shaper: TrafficShaper): Promise<void> {
  shaper.start();
  try {
    shaper.addTask(task("removed"));
    if (!(await saturate(shaper, "removed"))) {
      shaper.removeTask("removed");
      expect(shaper.limitOf("removed"), "limitOf a removed task").toBe(Infinity);
      return;
    }
    const waiting = shaper.acquire("removed", 64 * PIECE);
    shaper.removeTask("removed");
    await within(settle(waiting), 500, "a wait of a task that was removed");
    expect(shaper.limitOf("removed"), "limitOf a removed task").toBe(Infinity);
  } finally {
    shaper.stop();
  }
}

export async function checkStop(shaper: TrafficShaper): Promise<void> {
  shaper.start();
  shaper.addTask(task("stopped"));
  const waiting = (await saturate(shaper, "stopped")) ? shaper.acquire("stopped", 64 * PIECE) : undefined;
  shaper.stop();
  expect(() => shaper.stop(), "a second stop").not.toThrow();
  if (waiting) {
    const outcome = await within(settle(waiting), 500, "a wait when the shaper stopped");
    expect(outcome instanceof Error, "a wait cut short by stop rejects").toBe(true);
  }
  expect((await settle(shaper.acquire("stopped", 1))) instanceof Error, "acquire after stop rejects").toBe(true);
}

/** Many tasks come and go: limits stay positive numbers, never NaN (no division by zero). */
export async function checkChurnKeepsLimitsSane(shaper: TrafficShaper): Promise<void> {
  shaper.start();
  try {
    for (let round = 0; round < 50; round++) {
      shaper.addTask(task(`churn-${round}`, round % 3 === 0 ? 0 : PIECE * (round + 1)));
      if (round % 2 === 1) shaper.removeTask(`churn-${round - 1}`);
      for (let i = 0; i <= round; i++) {
        const limit = shaper.limitOf(`churn-${i}`);
        expect(limit > 0 && !Number.isNaN(limit), `limitOf churn-${i} after round ${round} is ${limit}`).toBe(true);
      }
    }
  } finally {
    shaper.stop();
  }
}

// ---- the definition ----

export const SHAPER_DEFINITION_KEY = "compliance.download.trafficShaperType";

export function checkIsShaperDefinition(definition: unknown): void {
  expect(isPluginDefinition(definition), "the default export is a definePlugin(...) definition").toBe(true);
  expect((definition as { kind: unknown }).kind, "definition.kind").toBe("shaper");
}

/** Resolves as the daemon does: by name, with the download limits merged into the options. */
export function resolveShaperDefinition(definition: unknown, options: Record<string, unknown> = {}): Promise<TrafficShaper> {
  const name = String((definition as { name?: unknown }).name);
  return resolvePlugin([name, { ...COMPLIANCE_LIMITS, ...options }], {
    kind: "shaper",
    key: SHAPER_DEFINITION_KEY,
    builtins: { [name]: async () => ({ default: definition }) },
  });
}

export async function checkShaperRejectsInvalidOptions(definition: unknown, invalid: Record<string, unknown>, field: string): Promise<void> {
  const outcome = await settle(resolveShaperDefinition(definition, invalid));
  expect(hasErrorCode(outcome, "INVALID_ARGUMENT"), `options ${JSON.stringify(invalid)} are refused with INVALID_ARGUMENT`).toBe(true);
  expect((outcome as Error).message, "the error names the field").toContain(`${SHAPER_DEFINITION_KEY}.1.${field}:`);
}
