import { describe, expect, it } from "vitest";
import { callerEntryProblem, callerIp, PreheatGate } from "./preheat-gate.js";

describe("callerIp", () => {
  it("takes the address out of grpc-js's peer strings", () => {
    expect(callerIp("127.0.0.1:50512")).toBe("127.0.0.1");
    expect(callerIp("::1:50512")).toBe("::1");
    expect(callerIp("[fd00::5]:443")).toBe("fd00::5");
    expect(callerIp("::ffff:10.1.2.3:9000")).toBe("10.1.2.3");
    expect(callerIp("10.1.2.3")).toBe("10.1.2.3");
    expect(callerIp("unix:/run/df.sock")).toBeUndefined();
    expect(callerIp("")).toBeUndefined();
  });
});

describe("callerEntryProblem", () => {
  it("takes IPs and CIDR blocks, and says what is wrong with anything else", () => {
    for (const good of ["10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "fd00::/8", "::1", "2001:db8::/128"]) expect(callerEntryProblem(good), good).toBeUndefined();
    expect(callerEntryProblem("manager.local")).toMatch(/not an IP address or a CIDR block/);
    expect(callerEntryProblem("10.0.0.0/33")).toMatch(/from 0 to 32/);
    expect(callerEntryProblem("fd00::/129")).toMatch(/from 0 to 128/);
    expect(callerEntryProblem("10.0.0.0/x")).toMatch(/whole number/);
    expect(callerEntryProblem("10.0.0.0/8/8")).toMatch(/not an IP address/);
  });
});

describe("PreheatGate", () => {
  const refused = { code: "PERMISSION_DENIED", reason: "preheat-caller" };

  it("lets loopback through and refuses anyone else, saying which key to set", async () => {
    const gate = new PreheatGate({ allowedCallers: [], managerAddresses: [] });
    await expect(gate.check("127.0.0.1:4000")).resolves.toBeUndefined();
    await expect(gate.check("127.3.2.1:4000")).resolves.toBeUndefined();
    await expect(gate.check("::1:4000")).resolves.toBeUndefined();
    await expect(gate.check("10.1.2.3:4000")).rejects.toMatchObject(refused);
    await expect(gate.check("10.1.2.3:4000")).rejects.toThrow(/preheat\.allowedCallers/);
    await expect(gate.check("garbage")).rejects.toMatchObject(refused);
  });

  it("lets the manager's own addresses through", async () => {
    const gate = new PreheatGate({ allowedCallers: [], managerAddresses: ["10.20.30.40:65003", "[fd00::7]:65003", "localhost:65003"] });
    await expect(gate.check("10.20.30.40:5000")).resolves.toBeUndefined();
    await expect(gate.check("fd00::7:5000")).resolves.toBeUndefined();
    await expect(gate.check("10.20.30.41:5000")).rejects.toMatchObject(refused);
  });

  it("lets allowedCallers through, single IPs and blocks", async () => {
    const gate = new PreheatGate({ allowedCallers: ["192.168.0.0/16", "172.16.5.5", "fd00:1::/32"], managerAddresses: [] });
    await expect(gate.check("192.168.77.1:1")).resolves.toBeUndefined();
    await expect(gate.check("172.16.5.5:1")).resolves.toBeUndefined();
    await expect(gate.check("fd00:1:2::3:1")).resolves.toBeUndefined();
    await expect(gate.check("172.16.5.6:1")).rejects.toMatchObject(refused);
    await expect(gate.check("192.169.0.1:1")).rejects.toMatchObject(refused);
  });

  it("refuses a malformed entry when it is built, naming the key", () => {
    expect(() => new PreheatGate({ allowedCallers: ["manager"], managerAddresses: [] })).toThrow(/preheat\.allowedCallers: "manager" is not an IP/);
  });
});
