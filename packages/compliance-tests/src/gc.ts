import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collector: (() => void) | undefined | null;

/**
 * Runs a full garbage collection when the runtime allows it, so that a memory reading
 * shows what is alive rather than what is merely not collected yet. Test runners start
 * workers without `--expose-gc`; the flag can still be set at run time and `gc` taken
 * from a fresh context. Returns false when neither works (the reading is then noisier).
 */
export function collectGarbage(): boolean {
  if (collector === undefined) collector = findCollector();
  collector?.();
  return collector !== null;
}

function findCollector(): (() => void) | null {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    return typeof gc === "function" ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
