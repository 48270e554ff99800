import { expectContent, type OriginServer, startOriginServer } from "@df/compliance-tests";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DestinationPolicy, parseAllowEntry } from "./destinations.js";
import { createHttpSource, type HttpSourceClient } from "./index.js";
import { expectDfError, uniquePath } from "./test-support/fixture.js";

let origin: OriginServer;
const clients: HttpSourceClient[] = [];
function source(allow?: string[]): HttpSourceClient {
  const client = createHttpSource(allow === undefined ? {} : { destinations: { allow } });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  origin = await startOriginServer();
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await origin.close();
});

describe("the http source's destination policy", () => {
  it("refuses an origin on loopback by default, before connecting, and says how to allow it", async () => {
    const path = uniquePath("loopback");
    const url = origin.publish(path, { size: 10, seed: 1 });
    const error = await expectDfError(source().stat({ url }), "PERMISSION_DENIED", "destination-refused");
    expect(error.message).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(error.message).toMatch(/destinations\.allow/);
    await expectDfError(source().get({ url }), "PERMISSION_DENIED", "destination-refused");
    expect(origin.requests(path)).toHaveLength(0);
  });

  it("refuses names that resolve only to refused addresses, on the address DNS answered", async () => {
    const port = new URL(origin.origin).port;
    const error = await expectDfError(source().stat({ url: `http://localhost:${port}/x` }), "PERMISSION_DENIED", "destination-refused");
    expect(error.message).toMatch(/localhost \((127\.0\.0\.1|::1)\) is a loopback address/);
  });

  it.each([
    ["cloud metadata", "http://169.254.169.254/latest/meta-data/", "link-local"],
    ["private", "http://10.1.2.3/", "private"],
    ["private (172.16/12)", "http://172.20.0.1/", "private"],
    ["private (192.168/16)", "http://192.168.1.1/", "private"],
    ["the unspecified address", "http://0.0.0.0:80/", "unspecified"],
    ["IPv6 loopback", "http://[::1]/", "loopback"],
    ["IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/", "loopback"],
    ["IPv6 unique local", "http://[fd00:ec2::254]/", "private (unique local)"],
    ["a decimal IPv4 literal", "http://2130706433/", "loopback"],
  ])("refuses %s (%s)", async (_label, url, kind) => {
    const error = await expectDfError(source().stat({ url }), "PERMISSION_DENIED", "destination-refused");
    expect(error.details).toMatchObject({ kind });
  });

  it("refuses a redirect to a refused address, even from an allowed origin", async () => {
    const target = uniquePath("target");
    origin.publish(target, { size: 10, seed: 2 });
    const port = new URL(origin.origin).port;
    const hop = uniquePath("hop");
    const url = origin.redirect(hop, `http://127.0.0.2:${port}${target}`);
    const error = await expectDfError(source(["127.0.0.1"]).stat({ url }), "PERMISSION_DENIED", "destination-refused");
    expect(error.message).toMatch(/127\.0\.0\.2 is a loopback address/);
    expect(origin.requests(target)).toHaveLength(0);
  });

  it("lets through what the allow list names: a range, an address or a host name", async () => {
    const path = uniquePath("allowed");
    const url = origin.publish(path, { size: 1000, seed: 3 });
    const port = new URL(origin.origin).port;
    for (const allow of [["127.0.0.0/8"], ["127.0.0.1"], ["0.0.0.0/0", "::/0"]]) {
      await expectContent((await source(allow).get({ url })).body, { size: 1000, seed: 3 });
    }
    // A name is trusted whatever it resolves to (the operator named it).
    const byName = await source(["LOCALHOST"]).stat({ url: `http://localhost:${port}${path}` }).catch((error: unknown) => error);
    expect(byName).not.toMatchObject({ reason: "destination-refused" });
  });

  it("rejects allow entries that are neither names, addresses nor ranges, naming the key", () => {
    for (const bad of ["10.0.0.0/33", "http://x", "a b", "10.0.0.0/8x", "::1/129"]) {
      expect(() => createHttpSource({ destinations: { allow: [bad] } }), bad).toThrow(/destinations\.allow\.0: must be a host name, an IP address or a CIDR range/);
    }
  });
});

describe("DestinationPolicy", () => {
  const policy = new DestinationPolicy({ allow: ["10.9.0.0/16", "fd12::/16", "*.corp.example", "origin.lab"] });

  it("classifies addresses, IPv4-mapped ones as the IPv4 address they carry", () => {
    expect(policy.refusal("8.8.8.8")).toBeUndefined();
    expect(policy.refusal("2001:4860::8888")).toBeUndefined();
    expect(policy.refusal("127.1.2.3")).toBe("loopback");
    expect(policy.refusal("::ffff:7f00:1")).toBe("loopback");
    expect(policy.refusal("::ffff:10.0.0.1")).toBe("private");
    expect(policy.refusal("::ffff:8.8.8.8")).toBeUndefined();
    expect(policy.refusal("100.100.100.200")).toBe("shared (carrier-grade NAT)");
    expect(policy.refusal("fe80::1")).toBe("link-local");
    expect(policy.refusal("224.0.0.1")).toBe("multicast");
    // IPv6 forms that carry an IPv4 address a gateway may forward to.
    expect(policy.refusal("64:ff9b::a9fe:a9fe")).toBe("reserved (NAT64)");
    expect(policy.refusal("64:ff9b:1::a00:1")).toBe("reserved (NAT64)");
    expect(policy.refusal("2002:7f00:1::")).toBe("reserved (6to4)");
    expect(policy.refusal("::7f00:1")).toBe("reserved (IPv4-compatible)");
    expect(policy.refusal("::ffff:0:7f00:1")).toBe("reserved (IPv4-translated)");
    expect(policy.refusal("::1")).toBe("loopback");
  });

  it("allows the listed ranges and names only", () => {
    expect(policy.refusal("10.9.200.1")).toBeUndefined();
    expect(policy.refusal("10.10.0.1")).toBe("private");
    expect(policy.refusal("fd12::1")).toBeUndefined();
    expect(policy.refusal("fd13::1")).toBe("private (unique local)");
    expect(policy.allowsName("origin.lab")).toBe(true);
    expect(policy.allowsName("ORIGIN.LAB.")).toBe(true);
    expect(policy.allowsName("a.b.corp.example")).toBe(true);
    expect(policy.allowsName("corp.example")).toBe(false);
    expect(policy.allowsName("evilorigin.lab")).toBe(false);
  });

  it("parses allow entries strictly", () => {
    expect(parseAllowEntry("10.0.0.0/8")).toMatchObject({ kind: "range" });
    expect(parseAllowEntry("::1")).toMatchObject({ kind: "range", cidr: { prefix: 128 } });
    expect(parseAllowEntry("*.example.com")).toMatchObject({ kind: "name" });
    expect(parseAllowEntry("10.0.0.0/")).toBeUndefined();
    expect(parseAllowEntry("*")).toBeUndefined();
  });
});
