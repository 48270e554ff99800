import { describe, expect, it } from "vitest";
import { Storage } from "@df/storage";
import { DEAD_SCHEDULER, startDaemon, tempDir } from "./test-support/cluster.js";

describe("Daemon lifecycle", () => {
  it("a failed start releases what it opened and says why", async () => {
    const first = await startDaemon({ name: "first", scheduler: DEAD_SCHEDULER });
    const dir = await tempDir();

    const clash = startDaemon({
      name: "second",
      scheduler: DEAD_SCHEDULER,
      dir,
      config: { upload: { listen: first.addresses.upload } },
    });

    await expect(clash).rejects.toMatchObject({ code: "UNAVAILABLE", message: expect.stringContaining(first.addresses.upload) });
    // The store was closed: another owner can open it at once.
    const storage = await Storage.open({ dir: `${dir}/store`, gc: { intervalMs: 0 } });
    await storage.close();
  });

  it("many daemons in one process keep their own state and metrics", async () => {
    const a = await startDaemon({ name: "a", scheduler: DEAD_SCHEDULER });
    const b = await startDaemon({ name: "b", scheduler: DEAD_SCHEDULER });
    expect(a.host.id).not.toBe(b.host.id);
    expect(a.container).not.toBe(b.container);
    expect(a.conductor).not.toBe(b.conductor);
    expect(await a.metrics.text()).toContain('host_id="127.0.0.1-a"');
    expect(await a.metrics.text()).not.toContain('host_id="127.0.0.1-b"');
    await a.stop();
    await a.stop();
    await expect(a.start()).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
  });
});
