import { describe, expect, it } from "vitest";
import { startAll, stopAll, type NamedStartable, type Startable } from "./lifecycle.js";

function tracker(events: string[], name: string, failOn?: keyof Startable): NamedStartable {
  const at = (phase: keyof Startable) => () => {
    events.push(`${name}.${phase}`);
    if (phase === failOn) throw new Error(`${name} broke in ${phase}`);
  };
  return {
    name,
    component: {
      beforeStart: at("beforeStart"),
      start: at("start"),
      afterStart: at("afterStart"),
      beforeStop: at("beforeStop"),
      stop: at("stop"),
      afterStop: at("afterStop"),
    },
  };
}

describe("lifecycle", () => {
  it("runs each phase across all components before the next phase", async () => {
    const events: string[] = [];
    const components = [tracker(events, "a"), tracker(events, "b")];
    await startAll(components);
    expect(events).toEqual(["a.beforeStart", "b.beforeStart", "a.start", "b.start", "a.afterStart", "b.afterStart"]);
    events.length = 0;
    await stopAll(components);
    expect(events).toEqual(["b.beforeStop", "a.beforeStop", "b.stop", "a.stop", "b.afterStop", "a.afterStop"]);
  });

  it("names the failing component, keeps the cause and stops what started", async () => {
    const events: string[] = [];
    const error = await startAll([tracker(events, "storage"), tracker(events, "rpc", "start")]).catch((e: unknown) => e);
    expect((error as Error).message).toBe("start failed in rpc: rpc broke in start");
    expect(((error as Error).cause as Error).message).toBe("rpc broke in start");
    expect(events).toContain("storage.stop");
  });

  it("runs every stop phase even when one fails", async () => {
    const events: string[] = [];
    await expect(stopAll([tracker(events, "a", "beforeStop")])).rejects.toThrow(/beforeStop failed in a/);
    expect(events).toEqual(["a.beforeStop", "a.stop", "a.afterStop"]);
  });
});
