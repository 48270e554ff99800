import { describe, expect, it } from "vitest";
import { SchedulerClients } from "./scheduler-clients.js";

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
