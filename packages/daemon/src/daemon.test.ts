import { once } from "node:events";
import { lstat } from "node:fs/promises";
import { connect } from "node:net";
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

  it("takes its piece server's limits from config and counts them in its metrics", async () => {
    const daemon = await startDaemon({
      name: "limits",
      scheduler: DEAD_SCHEDULER,
      config: { upload: { connectionsPerAddress: 1, connectionsPerAddressExempt: [], headerTimeout: "200ms" } },
    });
    const port = Number(daemon.addresses.bytes.slice(daemon.addresses.bytes.lastIndexOf(":") + 1));
    // One over the cap, closed at once; the other sends nothing and is closed after the header timeout.
    const sockets = [0, 1].map(() => connect({ host: "127.0.0.1", port }).on("error", () => {}).resume());
    const closed = await Promise.all(sockets.map((socket) => once(socket, "close").then(() => true)));
    expect(closed).toEqual([true, true]);
    const text = await daemon.metrics.text();
    expect(text).toMatch(/df_daemon_upload_connections_cut_total\{[^}]*limit="per_address"[^}]*\} 1/);
    expect(text).toMatch(/df_daemon_upload_connections_cut_total\{[^}]*limit="header_timeout"[^}]*\} 1/);
    await daemon.stop();
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
