import net from "node:net";
import { scheduler, unary } from "@df/rpc";
import { describe, expect, it } from "vitest";
import { startScheduler } from "../test-support/cluster.js";
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
