import { DfError, errorMessage } from "./errors.js";

/**
 * The lifecycle of a long-lived component. A service fans each phase out across its
 * components in order, so a component may assume, during:
 * - `start`: every component has run `beforeStart`, none has begun serving;
 * - `afterStart`: every component has started (it may now call the others);
 * - `beforeStop`: every component is still up (drain, say goodbye to the scheduler);
 * - `stop`: others may already be stopping; release your own resources only.
 */
export interface Startable {
  beforeStart?(): void | Promise<void>;
  start?(): void | Promise<void>;
  afterStart?(): void | Promise<void>;
  beforeStop?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  afterStop?(): void | Promise<void>;
}

export interface NamedStartable {
  name: string;
  component: Startable;
}

type Phase = keyof Startable;

async function runPhase(components: readonly NamedStartable[], phase: Phase): Promise<void> {
  const results = await Promise.allSettled(components.map(async ({ component }) => component[phase]?.call(component)));
  const failures = results.flatMap((result, index) =>
    result.status === "rejected" ? [{ name: components[index]!.name, reason: result.reason as unknown }] : [],
  );
  if (failures.length > 0) {
    const first = failures[0]!;
    throw new DfError(
      "INTERNAL",
      `${phase} failed in ${failures.map((f) => f.name).join(", ")}: ${errorMessage(first.reason)}`,
      { cause: failures.length === 1 ? first.reason : new AggregateError(failures.map((f) => f.reason)), details: { phase } },
    );
  }
}


/** Runs beforeStart, start and afterStart across all components; on failure stops what started. */
export async function startAll(components: readonly NamedStartable[]): Promise<void> {
  try {
    await runPhase(components, "beforeStart");
    await runPhase(components, "start");
    await runPhase(components, "afterStart");
  } catch (error) {
    await stopAll(components).catch(() => {});
    throw error;
  }
}

/** Runs beforeStop, stop and afterStop across all components; every phase runs even if one fails. */
export async function stopAll(components: readonly NamedStartable[]): Promise<void> {
  const reversed = [...components].reverse();
  let failure: unknown;
  for (const phase of ["beforeStop", "stop", "afterStop"] as const) {
    try {
      await runPhase(reversed, phase);
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
}
