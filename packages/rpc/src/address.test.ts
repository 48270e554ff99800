import { describe, expect, it } from "vitest";
import { formatAddress, parseAddress, parseListen } from "./address.js";

describe("parseAddress", () => {
  it.each([
    ["unix:/run/df/dfdaemon.sock", { kind: "unix", path: "/run/df/dfdaemon.sock" }],
    ["unix:///run/df/dfdaemon.sock", { kind: "unix", path: "/run/df/dfdaemon.sock" }],
    ["/var/run/dfdaemon.sock", { kind: "unix", path: "/var/run/dfdaemon.sock" }],
    ["scheduler.local:8002", { kind: "tcp", host: "scheduler.local", port: 8002 }],
    ["127.0.0.1:0", { kind: "tcp", host: "127.0.0.1", port: 0 }],
    ["[::1]:65003", { kind: "tcp", host: "::1", port: 65003 }],
    ["[fe80::1%eth0]:4000", { kind: "tcp", host: "fe80::1%eth0", port: 4000 }],
    ["tcp://10.0.0.5:4000", { kind: "tcp", host: "10.0.0.5", port: 4000 }],
    ["tcp://[2001:db8::7]:4000", { kind: "tcp", host: "2001:db8::7", port: 4000 }],
  ])("parses %s", (input, expected) => {
    expect(parseAddress(input)).toEqual(expected);
  });

  it.each([
    ["", "missing port"],
    ["localhost", "missing port"],
    [":8002", "missing host"],
    ["host:", "port"],
    ["host:http", "port"],
    ["host:65536", "port"],
    ["host:-1", "port"],
    ["::1:8002", "brackets"],
    ["[::1]8002", "[ipv6]:port"],
    ["[not-v6]:80", "not an IPv6 address"],
    ["unix:relative.sock", "absolute"],
    ["unix://host/path.sock", "absolute"],
    ["relative/dir.sock", "missing port"],
    ["http://host:80", "unsupported scheme"],
    ["bad host:80", "not a valid host name"],
    [`/${"x".repeat(120)}`, "at most 107 bytes"],
  ])("rejects %j with INVALID_ARGUMENT", (input, why) => {
    let error: unknown;
    try {
      parseAddress(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "INVALID_ARGUMENT", reason: "invalid-address", details: { address: input } });
    expect((error as Error).message).toContain(why);
  });
});

describe("formatAddress", () => {
  it("gives grpc-js targets, bracketing IPv6", () => {
    expect(formatAddress(parseAddress("unix:///tmp/a.sock"))).toBe("unix:/tmp/a.sock");
    expect(formatAddress(parseAddress("/tmp/a.sock"))).toBe("unix:/tmp/a.sock");
    expect(formatAddress(parseAddress("tcp://[::1]:80"))).toBe("[::1]:80");
    expect(formatAddress(parseAddress("example.com:443"))).toBe("example.com:443");
  });
});

describe("parseListen", () => {
  it("splits host:port, [v6]:port and :port (the default host)", () => {
    expect(parseListen("10.0.0.1:9000", "metricsListen")).toEqual(["10.0.0.1", 9000]);
    expect(parseListen("[::1]:9000", "metricsListen")).toEqual(["::1", 9000]);
    expect(parseListen(":9000", "metricsListen")).toEqual(["127.0.0.1", 9000]);
    expect(parseListen(":8080", "restListen", "0.0.0.0")).toEqual(["0.0.0.0", 8080]);
    expect(parseListen("localhost:0", "metricsListen")).toEqual(["localhost", 0]);
  });

  it.each(["metrics.local", "127.0.0.1", "127.0.0.1:port", "a:b:9000", "[::1]9000", "1.2.3.4:70000", ""])("rejects %j naming the key", (listen) => {
    expect(() => parseListen(listen, "metricsListen")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", reason: "invalid-config", message: expect.stringContaining("metricsListen must be host:port") }));
  });
});
