import { lstat } from "node:fs/promises";
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

  it("creates its download socket for its user only whatever the umask, or for a configured group", async () => {
    const previous = process.umask(0);
    try {
      const owner = await startDaemon({ name: "owner", scheduler: DEAD_SCHEDULER });
      expect((await lstat(owner.addresses.socket)).mode & 0o777).toBe(0o600);
      const gid = process.getgid?.() ?? 0;
      const shared = await startDaemon({ name: "shared", scheduler: DEAD_SCHEDULER, config: { download: { socketGroup: gid } } });
      const stat = await lstat(shared.addresses.socket);
      expect(stat.mode & 0o777).toBe(0o660);
      expect(stat.gid).toBe(gid);
      await expect(startDaemon({ name: "nogroup", scheduler: DEAD_SCHEDULER, config: { download: { socketGroup: "df-no-such-group" } } })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        message: expect.stringContaining("download.socketGroup"),
      });
    } finally {
      process.umask(previous);
    }
  });
});
