import type { ShaperLimits, TrafficShaper } from "@df/interface";
import { describe, it } from "vitest";
import {
  COMPLIANCE_LIMITS,
  checkAbortedWait,
  checkChurnKeepsLimitsSane,
  checkCountsUsage,
  checkFirstPiecePasses,
  checkHoldsTaskToItsLimit,
  checkIsShaperDefinition,
  checkRejectsBadArguments,
  checkRemoveReleasesWaiters,
  checkShaperRejectsInvalidOptions,
  checkShaperShape,
  checkStop,
  checkUnknownTaskPasses,
  resolveShaperDefinition,
} from "./shaper-checks.js";

export * from "./shaper-checks.js";

/**
 * Registers the tests every traffic shaper must pass. `create` makes a fresh, unstarted
 * shaper for the given limits (each test starts and stops its own). The contract:
 * - it has a name and every member of `TrafficShaper`;
 * - `acquire` for a task never added passes at once; its `limitOf` is Infinity;
 * - a new task's first piece passes at once, and its pieces pass no faster than its
 *   `limitOf` (plus one burst);
 * - `record` counts toward `lastSecondUsage` for known and unknown tasks alike;
 * - negative, NaN or infinite byte counts and malformed tasks are INVALID_ARGUMENT;
 * - an aborted wait ends (CANCELLED) and a removed task's waiters are let go;
 * - `stop` is idempotent, ends every wait with an error and refuses later acquires;
 * - tasks coming and going never leave a limit NaN, zero or negative.
 */
export function describeShaperCompliance(name: string, create: (limits: ShaperLimits) => TrafficShaper | Promise<TrafficShaper>): void {
  const make = () => create(COMPLIANCE_LIMITS);
  describe(`shaper compliance: ${name}`, () => {
    it("has a name and every member", async () => checkShaperShape(await make()));
    it("lets a task it never added pass", async () => checkUnknownTaskPasses(await make()));
    it("lets a new task's first piece pass at once", async () => checkFirstPiecePasses(await make()));
    it("holds a task to its limit", async () => checkHoldsTaskToItsLimit(await make()));
    it("counts usage over the last second", async () => checkCountsUsage(await make()));
    it("refuses bad byte counts and malformed tasks", async () => checkRejectsBadArguments(await make()));
    it("ends an aborted wait", async () => checkAbortedWait(await make()));
    it("lets a removed task's waiters go", async () => checkRemoveReleasesWaiters(await make()));
    it("stops cleanly", async () => checkStop(await make()));
    it("keeps limits sane as tasks come and go", async () => checkChurnKeepsLimitsSane(await make()));
  });
}

/**
 * Registers the tests a shaper plugin package's default export must pass: a shaper
 * definition that resolves with the daemon's limits (and `validOptions`) into a
 * compliant shaper, and refuses `invalidOptions`, naming `invalidField`.
 */
export function describeShaperDefinitionCompliance(
  definition: unknown,
  options: { invalidOptions: Record<string, unknown>; invalidField: string; validOptions?: Record<string, unknown> },
): void {
  describe(`shaper definition compliance: ${String((definition as { name?: unknown })?.name)}`, () => {
    it("is a definePlugin definition of kind shaper", () => checkIsShaperDefinition(definition));
    it("resolves with the daemon's limits", async () => {
      const shaper = await resolveShaperDefinition(definition);
      checkShaperShape(shaper);
      shaper.stop();
    });
    it("resolves with valid options", async () => {
      const shaper = await resolveShaperDefinition(definition, options.validOptions ?? {});
      checkShaperShape(shaper);
      shaper.stop();
    });
    it("rejects invalid options, naming the field", () => checkShaperRejectsInvalidOptions(definition, options.invalidOptions, options.invalidField));
  });
}
