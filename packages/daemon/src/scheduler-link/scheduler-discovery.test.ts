import { describe, expect, it } from "vitest";
import { noopLogger } from "@df/interface";
import { manager } from "@df/rpc";
import { Metrics } from "@df/telemetry";
import { daemonConfig } from "../config.js";
import { DEAD_SCHEDULER, waitFor } from "../test-support/cluster.js";
import { startManagedScheduler, startTestManager } from "../test-support/manager.js";
import { DaemonHost } from "../host.js";
import { SchedulerClients, type ListChange } from "./scheduler-clients.js";
import { nextSchedulerList, schedulerAddressesOf, SchedulerDiscovery } from "./scheduler-discovery.js";

describe("nextSchedulerList", () => {
  const fallback = ["10.0.0.1:8002"];
  it("takes the manager's answer when it names schedulers", () => {
    expect(nextSchedulerList(["10.1.0.1:8002", "10.1.0.2:8002"], ["10.2.0.1:8002"], fallback)).toEqual({ addresses: ["10.1.0.1:8002", "10.1.0.2:8002"], source: "manager" });
  });
  it("keeps the last answer when the manager fails or names none", () => {
    expect(nextSchedulerList(undefined, ["10.2.0.1:8002"], fallback)).toEqual({ addresses: ["10.2.0.1:8002"], source: "last" });
    expect(nextSchedulerList([], ["10.2.0.1:8002"], fallback)).toEqual({ addresses: ["10.2.0.1:8002"], source: "last" });
  });
  it("uses the static list when the manager never answered", () => {
    expect(nextSchedulerList(undefined, undefined, fallback)).toEqual({ addresses: fallback, source: "static" });
    expect(nextSchedulerList([], [], fallback)).toEqual({ addresses: fallback, source: "static" });
  });
});

describe("schedulerAddressesOf", () => {
  it("names each scheduler once as ip:port, IPv6 in brackets", () => {
    const response = manager.ListSchedulersResponse.create({
      schedulers: [
        manager.Scheduler.create({ ip: "10.0.0.1", port: 8002 }),
        manager.Scheduler.create({ ip: "::1", port: 8003 }),
        manager.Scheduler.create({ ip: "10.0.0.1", port: 8002 }),
        manager.Scheduler.create({ ip: "10.0.0.9", port: 0 }),
        // Not IP:port: dropped rather than turned into channel targets.
        manager.Scheduler.create({ ip: "evil.example/x", port: 8002 }),
        manager.Scheduler.create({ ip: "10.0.0.2", port: 70_000 }),
      ],
    });
    expect(schedulerAddressesOf(response)).toEqual(["10.0.0.1:8002", "[::1]:8003"]);
  });
});

function discoveryFor(managerAddress: string, changes: ListChange[] = []) {
  const config = daemonConfig({ host: { hostname: "peer-x" }, scheduler: { addresses: [DEAD_SCHEDULER] }, manager: { addresses: [managerAddress], refreshInterval: "1h" } });
  const schedulers = new SchedulerClients(config.scheduler.addresses);
  const metrics = new Metrics();
  const discovery = new SchedulerDiscovery({ config, host: new DaemonHost(config), schedulers, logger: noopLogger, metrics, onChange: (change) => changes.push(change) });
  return { discovery, schedulers, metrics };
}

describe("SchedulerDiscovery with a manager", () => {
  it("rebuilds the ring from each answer, keeps the last list while the manager is down, and starts on the static list when it never answered", async () => {
    const { manager: running, grpc } = await startTestManager({ manualStop: true });
    try {
      const [a, b] = await Promise.all([startManagedScheduler(grpc, "sched-a"), startManagedScheduler(grpc, "sched-b")]);
      const changes: ListChange[] = [];
      const { discovery, schedulers, metrics } = discoveryFor(grpc, changes);
      await waitFor(async () => (await discovery.refresh()).addresses.length === 2, 5000, "both schedulers listed");
      expect([...schedulers.addresses].sort()).toEqual([a.address, b.address].sort());
      expect(discovery.source).toBe("manager");
      // One change, or more when the first answer came before both schedulers had registered.
      expect(changes[0]).toEqual(expect.objectContaining({ removed: [DEAD_SCHEDULER] }));
      expect(new Set(changes.flatMap((change) => change.added))).toEqual(new Set([a.address, b.address]));
      // The same ring as a daemon configured with the list by hand, in any order.
      const byHand = new SchedulerClients([b.address, a.address]);
      for (let i = 0; i < 50; i++) expect(schedulers.forTask(`task-${i}`)).toEqual(byHand.forTask(`task-${i}`));
      byHand.close();
      expect(await metrics.text()).toMatch(/df_daemon_schedulers 2/);

      // A scheduler that stops is gone from the next answer.
      await b.scheduler.stop();
      await waitFor(async () => (await discovery.refresh()).addresses.length === 1, 3000, "the stopped scheduler dropped");
      expect(schedulers.addresses).toEqual([a.address]);
      expect(changes.at(-1)).toEqual({ added: [], removed: [b.address] });

      // The manager goes away: the last list stays.
      await running.stop();
      expect(await discovery.refresh()).toEqual({ addresses: [a.address], source: "last" });
      expect(schedulers.addresses).toEqual([a.address]);
      expect(await metrics.text()).toMatch(/df_daemon_scheduler_list_source\{source="last"\} 1/);
      expect(await metrics.text()).toMatch(/df_daemon_manager_list_schedulers_total\{outcome="failed"\} 1/);
      await discovery.stop();
      schedulers.close();

      // A daemon that starts while the manager is down uses its static list.
      const fresh = discoveryFor(grpc);
      await fresh.discovery.start();
      expect(fresh.discovery.source).toBe("static");
      expect(fresh.schedulers.addresses).toEqual([DEAD_SCHEDULER]);
      await fresh.discovery.stop();
      fresh.schedulers.close();
    } finally {
      await running.stop();
    }
  });
});
