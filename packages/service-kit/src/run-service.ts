import { errorMessage, isDfError } from "@df/interface";

/** A long-running service as its binary drives it. */
export interface RunnableService<Started> {
  start(): Promise<Started>;
  stop(): Promise<void>;
}

/** What a service's start resolves to (its addresses). */
export type StartedOf<S extends RunnableService<unknown>> = Awaited<ReturnType<S["start"]>>;

export interface RunServiceOptions<S extends RunnableService<unknown>> {
  /** The binary's name, prefixed to every message on stderr. */
  name: string;
  /** Loads config and builds the service; errors here are config errors (exit 2) or others (exit 1). */
  create(): Promise<S>;
  /** The one line written to stdout once the service serves; tests and scripts wait for it. */
  readyLine(started: StartedOf<S>, service: S): string;
}

/** Exit codes shared by df's service binaries. */
export const SERVICE_EXIT = { ok: 0, failed: 1, badConfig: 2 } as const;

function exitCodeOf(error: unknown): number {
  return isDfError(error) && error.code === "INVALID_ARGUMENT" ? SERVICE_EXIT.badConfig : SERVICE_EXIT.failed;
}


/**
 * Runs a service binary to the end: create, start, print the ready line, wait for
 * SIGTERM or SIGINT, stop. A signal that arrives while the service is starting is
 * honoured once start settles, so a supervisor that stops a slow starter is not ignored.
 * Resolves to the exit code: 0 stopped cleanly, 1 failed while starting, running or
 * stopping, 2 bad config.
 */
export async function runService<S extends RunnableService<unknown>>(options: RunServiceOptions<S>): Promise<number> {
  const { name } = options;
  let service: S;
  try {
    service = await options.create();
  } catch (error) {
    process.stderr.write(`${name}: ${errorMessage(error)}\n`);
    return exitCodeOf(error);
  }

  let stopRequested = false;
  let requestStop = (): void => {
    stopRequested = true;
  };
  const onSignal = (): void => requestStop();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const forgetSignals = (): void => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
  try {
    const started = (await service.start()) as StartedOf<S>;
    process.stdout.write(`${options.readyLine(started, service)}\n`);
  } catch (error) {
    process.stderr.write(`${name}: cannot start: ${errorMessage(error)}\n`);
    forgetSignals();
    await service.stop().catch(() => {});
    return exitCodeOf(error);
  }
  if (!stopRequested) await new Promise<void>((done) => (requestStop = done));
  forgetSignals();
  try {
    await service.stop();
  } catch (error) {
    process.stderr.write(`${name}: unclean stop: ${errorMessage(error)}\n`);
    return SERVICE_EXIT.failed;
  }
  return SERVICE_EXIT.ok;
}
