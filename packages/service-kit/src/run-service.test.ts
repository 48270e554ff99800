import { afterEach, describe, expect, it, vi } from "vitest";
import { DfError } from "@df/interface";
import { runService } from "./run-service.js";

/** A service that records what happened to it; start waits for `release` when given. */
function service(options: { startFails?: unknown; stopFails?: unknown; release?: Promise<void> } = {}) {
  const events: string[] = [];
  return {
    events,
    async start() {
      events.push("start");
      await options.release;
      if (options.startFails) throw options.startFails;
      return { port: 4242 };
    },
    async stop() {
      events.push("stop");
      if (options.stopFails) throw options.stopFails;
    },
  };
}

const signalled = () => new Promise((resolve) => setImmediate(resolve));

describe("runService", () => {
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  afterEach(() => {
    stdout.mockClear();
    stderr.mockClear();
  });

  it("prints the ready line, runs until SIGTERM, stops, and exits 0", async () => {
    const s = service();
    const exit = runService({ name: "svc", create: async () => s, readyLine: (started) => `svc ready on ${started.port}` });
    await vi.waitFor(() => expect(stdout).toHaveBeenCalledWith("svc ready on 4242\n"));
    expect(s.events).toEqual(["start"]);
    process.emit("SIGTERM");
    expect(await exit).toBe(0);
    expect(s.events).toEqual(["start", "stop"]);
    expect(process.listenerCount("SIGTERM")).toBe(0);
  });

  it("exits 2 on a config error and 1 on any other failure to create, naming the binary", async () => {
    expect(await runService({ name: "svc", create: () => Promise.reject(new DfError("INVALID_ARGUMENT", "log.level: bad")), readyLine: () => "" })).toBe(2);
    expect(stderr).toHaveBeenCalledWith("svc: log.level: bad\n");
    expect(await runService({ name: "svc", create: () => Promise.reject(new Error("disk gone")), readyLine: () => "" })).toBe(1);
  });

  it("stops what a failed start opened and exits 1, printing no ready line", async () => {
    const s = service({ startFails: new Error("port in use") });
    expect(await runService({ name: "svc", create: async () => s, readyLine: () => "ready" })).toBe(1);
    expect(s.events).toEqual(["start", "stop"]);
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr).toHaveBeenCalledWith("svc: cannot start: port in use\n");
    expect(process.listenerCount("SIGINT")).toBe(0);
  });

  it("honours a signal that arrives during start once start settles", async () => {
    let release!: () => void;
    const s = service({ release: new Promise<void>((r) => (release = r)) });
    const exit = runService({ name: "svc", create: async () => s, readyLine: () => "ready" });
    await signalled();
    process.emit("SIGINT");
    release();
    expect(await exit).toBe(0);
    expect(s.events).toEqual(["start", "stop"]);
  });

  it("exits 1 when stopping fails, and says so", async () => {
    const s = service({ stopFails: new Error("flush failed") });
    const exit = runService({ name: "svc", create: async () => s, readyLine: () => "ready" });
    await vi.waitFor(() => expect(stdout).toHaveBeenCalled());
    process.emit("SIGTERM");
    expect(await exit).toBe(1);
    expect(stderr).toHaveBeenCalledWith("svc: unclean stop: flush failed\n");
  });
});
