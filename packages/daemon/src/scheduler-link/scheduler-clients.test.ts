import net from "node:net";
import { bidiStream, common, connectivityState, scheduler, unary } from "@df/rpc";
import { describe, expect, it } from "vitest";
import { startScheduler, waitFor } from "../test-support/cluster.js";
import { SchedulerClients } from "./scheduler-clients.js";

/** A loopback address nothing listens on (yet). */
async function freeAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `127.0.0.1:${port}`;
}

describe("SchedulerClients.forTask", () => {
  it("orders schedulers the same way whatever order the config lists them in", () => {
    const a = new SchedulerClients(["10.0.0.1:8002", "10.0.0.2:8002", "10.0.0.3:8002"]);
    const b = new SchedulerClients(["10.0.0.3:8002", "10.0.0.1:8002", "10.0.0.2:8002", "10.0.0.1:8002"]);
    for (let i = 0; i < 200; i++) expect(a.forTask(`task-${i}`)).toEqual(b.forTask(`task-${i}`));
    a.close();
    b.close();
  });

  it("spreads tasks over every scheduler and lists each once", () => {
    const clients = new SchedulerClients(["s1:1", "s2:1", "s3:1"]);
    const owners = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const order = clients.forTask(`task-${i}`);
      expect(new Set(order).size).toBe(3);
      owners.set(order[0]!, (owners.get(order[0]!) ?? 0) + 1);
    }
    for (const address of ["s1:1", "s2:1", "s3:1"]) expect(owners.get(address)).toBeGreaterThan(100);
    clients.close();
  });
});

describe("SchedulerClients.onReturn", () => {
  it("tells listeners when a scheduler that could not be reached is reachable again, not on the first connection", async () => {
    const down = await freeAddress();
    const up = await startScheduler();
    const clients = new SchedulerClients([down, up.address]);
    const returned: string[] = [];
    clients.onReturn((address) => returned.push(address));
    const ping = (address: string) => unary(clients.client(address), "statTask", scheduler.StatTaskRequest.create({ hostId: "h", taskId: "t" }), { deadlineMs: 2000 });
    await expect(ping(up.address)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(ping(down)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(clients.forTask("any").at(-1)).toBe(down);
    await startScheduler(down);
    // grpc-js reconnects on its own within the backoff (0.5 s at first).
    const deadline = Date.now() + 10_000;
    while (returned.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(returned).toEqual([down]);
    clients.close();
  });
});

describe("SchedulerClients.setAddresses", () => {
  it("rebuilds the ring as a daemon given the new list would have it, and reports what changed", () => {
    const clients = new SchedulerClients(["s1:1", "s2:1"]);
    expect(clients.setAddresses(["s2:1", "s1:1", "s1:1"])).toEqual({ added: [], removed: [] });
    expect(clients.setAddresses(["s3:1", "s2:1"])).toEqual({ added: ["s3:1"], removed: ["s1:1"] });
    const fresh = new SchedulerClients(["s2:1", "s3:1"]);
    for (let i = 0; i < 100; i++) expect(clients.forTask(`task-${i}`)).toEqual(fresh.forTask(`task-${i}`));
    expect(clients.addresses).toEqual(["s3:1", "s2:1"]);
    clients.close();
    fresh.close();
  });

  it("lets calls already routed to a scheduler that left the list finish, then closes its channel", async () => {
    const a = await startScheduler();
    const b = await startScheduler();
    const clients = new SchedulerClients([a.address]);
    const statTask = (address: string) =>
      unary(clients.client(address), "statTask", scheduler.StatTaskRequest.create({ hostId: "h", taskId: "t" }), { deadlineMs: 2000 });
    // Connect first, so the calls below are in flight on a ready channel.
    await expect(statTask(a.address)).rejects.toMatchObject({ code: "NOT_FOUND" });

    // A unary call and a stream (a download's AnnouncePeer) routed to `a` before the list changes.
    const aChannel = clients.client(a.address).raw.getChannel();
    const unaryCall = statTask(a.address);
    const stream = bidiStream(clients.client(a.address), "announcePeer");
    expect(clients.setAddresses([b.address])).toEqual({ added: [b.address], removed: [a.address] });
    expect(clients.forTask("any")).toEqual([b.address]);
    await expect(unaryCall).rejects.toMatchObject({ code: "NOT_FOUND" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The stream is still open, so its channel is.
    expect(aChannel.getConnectivityState(false)).not.toBe(connectivityState.SHUTDOWN);
    // And it still reaches `a`: it answers a register from a host it does not know.
    await stream.write(
      scheduler.AnnouncePeerRequest.create({ hostId: "unknown-host", taskId: "t", peerId: "p", request: { $case: "register", value: { download: common.Download.create({ url: "http://o/f" }) } } }),
    );
    await expect(stream.next()).rejects.toMatchObject({ code: "NOT_FOUND", reason: "host-not-found" });
    // Its last call ended: a's channel is closed; new calls go to `b`.
    await waitFor(() => aChannel.getConnectivityState(false) === connectivityState.SHUTDOWN, 2000, "a's channel closed");
    await expect(statTask(b.address)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(clients.openChannels).toBe(1);
    clients.close();
  });

  it("tells onReturn listeners of a scheduler that joined the list (it knows none of this host's tasks)", () => {
    const clients = new SchedulerClients(["s1:1"]);
    const heard: string[] = [];
    clients.onReturn((address) => heard.push(address));
    clients.setAddresses(["s1:1", "s2:1"]);
    clients.setAddresses(["s2:1"]);
    expect(heard).toEqual(["s2:1"]);
    clients.close();
  });
});
