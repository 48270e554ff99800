import path from "node:path";
import { describe, expect, it } from "vitest";
import { managerClient, manager as m, unary } from "@df/rpc";
import { HostAnnouncer } from "./scheduler-link/announcer.js";
import { SchedulerClients } from "./scheduler-link/scheduler-clients.js";
import { DEAD_SCHEDULER, download, sha256File, startDaemon, startOrigin, waitFor } from "./test-support/cluster.js";
import { KEEPALIVE_MS, startManagedScheduler, startTestManager } from "./test-support/manager.js";

const MiB = 2 ** 20;

describe("daemons with a manager", () => {
  it("find the schedulers through the manager (the seed registers), download, and keep working when the manager stops", async () => {
    const origin = await startOrigin();
    const { manager, grpc } = await startTestManager({ manualStop: true });
    const fleet = managerClient(grpc);
    try {
      const schedulers = await Promise.all([startManagedScheduler(grpc, "sched-a"), startManagedScheduler(grpc, "sched-b")]);
      await waitFor(() => schedulers.every((s) => s.scheduler.managerLink?.membership.state === "alive"), 5000, "schedulers alive");
      const withManager = { manager: { addresses: [grpc], keepAliveInterval: KEEPALIVE_MS } };
      // The static list names a dead scheduler: downloads work only if the manager's list is used.
      const seed = await startDaemon({ name: "seed", scheduler: DEAD_SCHEDULER, seed: true, config: withManager });
      const peer = await startDaemon({ name: "peer", scheduler: DEAD_SCHEDULER, config: { ...withManager, upload: { concurrencyLimit: 50 } } });
      const expected = schedulers.map((s) => s.address).sort();
      for (const daemon of [seed, peer]) {
        expect(daemon.discovery?.source).toBe("manager");
        expect([...daemon.container.resolve(SchedulerClients).addresses].sort()).toEqual(expected);
      }
      await waitFor(() => seed.membership?.state === "alive", 5000, "the seed peer alive in the manager");
      const { seedPeers } = await unary(fleet, "listSeedPeers", m.ListSeedPeersRequest.create({ schedulerClusterId: 1 }));
      expect(seedPeers.map((s) => [s.hostname, s.port, s.downloadPort])).toEqual([["seed", seed.host.uploadPort, seed.host.downloadPort]]);
      // Both schedulers know the seed, through its announce and through the manager.
      await waitFor(() => schedulers.every((s) => s.scheduler.resources.hosts.get(seed.host.id)?.type === "seed"), 5000, "the seed known to both schedulers");

      const size = 5 * MiB + 17;
      const url = origin.publish("/managed.bin", { size, seed: 5 });
      await download(peer.addresses.socket, { url, outputPath: path.join(peer.dir, "one.out") });
      const served = origin.stats("/managed.bin").bytesServed;
      expect(served).toBeGreaterThanOrEqual(size);
      expect(served).toBeLessThan(size * 1.5);

      // The cluster's load limit (client_config) wins over the local one, and follows changes.
      const uploadLimit = () => peer.container.resolve(HostAnnouncer).describe().concurrentUploadLimit;
      expect(uploadLimit()).toBe(200);
      expect(seed.container.resolve(HostAnnouncer).describe().concurrentUploadLimit).toBe(2000);
      await manager.database.db
        .updateTable("scheduler_clusters")
        .set({ client_config: JSON.stringify({ loadLimit: 300, blockList: [] }) })
        .where("id", "=", 1)
        .execute();
      await waitFor(async () => (await peer.discovery!.refresh()) && uploadLimit() === 300, 3000, "the new load limit");

      // The manager stops: the daemons keep the schedulers it last named.
      await manager.stop();
      await peer.discovery!.refresh();
      expect(peer.discovery!.source).toBe("last");
      expect([...peer.container.resolve(SchedulerClients).addresses].sort()).toEqual(expected);
      const url2 = origin.publish("/after.bin", { size, seed: 6 });
      const out = path.join(peer.dir, "two.out");
      await download(peer.addresses.socket, { url: url2, outputPath: out });
      expect((await sha256File(out)).length).toBe(64);
      expect(origin.stats("/after.bin").bytesServed).toBeGreaterThanOrEqual(size);
    } finally {
      fleet.close();
      await manager.stop();
    }
  });
});
