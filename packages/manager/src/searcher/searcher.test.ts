import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CidrSet, parseCidr } from "../util/cidr.js";
import { DefaultSearcher, resolveSearcher, type SearchCluster } from "./searcher.js";

const cluster = (id: number, scopes: SearchCluster["scopes"], isDefault = false): SearchCluster => ({ id, name: `c${id}`, isDefault, scopes });

describe("the default searcher", () => {
  const searcher = new DefaultSearcher();
  const asker = { hostname: "node-7.gpu.example", ip: "10.2.3.4", idc: "idc-b", location: "cn|east|hz|z1" };

  it("scores each feature with upstream's weights", () => {
    const close = (a: number, b: number) => expect(a).toBeCloseTo(b, 10);
    close(searcher.score(cluster(1, {}), asker), 0);
    close(searcher.score(cluster(1, {}, true), asker), 0.01);
    close(searcher.score(cluster(1, { cidrs: ["10.0.0.0/8"] }), asker), 0.3);
    close(searcher.score(cluster(1, { cidrs: ["192.168.0.0/16", "10.2.3.0/24"] }), asker), 0.3);
    close(searcher.score(cluster(1, { cidrs: ["11.0.0.0/8"] }), asker), 0);
    close(searcher.score(cluster(1, { hostnames: ["^db-", "\\.gpu\\."] }), asker), 0.3);
    close(searcher.score(cluster(1, { idc: "idc-a|idc-b" }), asker), 0.25);
    close(searcher.score(cluster(1, { idc: "idc-bb" }), asker), 0);
    // Location: identical → 1; else shared leading elements / 5.
    close(searcher.score(cluster(1, { location: "cn|east|hz|z1" }), asker), 0.14);
    close(searcher.score(cluster(1, { location: "cn|east|sh" }), asker), 0.14 * (2 / 5));
    close(searcher.score(cluster(1, { location: "us|east" }), asker), 0);
    close(
      searcher.score(cluster(1, { cidrs: ["10.0.0.0/8"], hostnames: ["gpu"], idc: "idc-b", location: "cn|east|hz|z1" }, true), asker),
      1,
    );
  });

  it("puts the best cluster first; ties go to the lower ID", () => {
    const clusters = [
      cluster(1, {}, true),
      cluster(2, { idc: "idc-b" }),
      cluster(3, { cidrs: ["10.2.0.0/16"] }),
      cluster(4, { cidrs: ["10.2.0.0/16"] }),
      cluster(5, { location: "cn|east" }),
    ];
    expect(searcher.search(clusters, asker).map((c) => c.id)).toEqual([3, 4, 2, 5, 1]);
    // A peer that matches nothing gets the default cluster.
    expect(searcher.search(clusters, { hostname: "x", ip: "8.8.8.8" })[0]!.id).toBe(1);
    // IPv6 and IPv4-mapped addresses.
    expect(searcher.search([cluster(1, {}, true), cluster(2, { cidrs: ["fd00::/8"] })], { hostname: "x", ip: "fd12::1" })[0]!.id).toBe(2);
    expect(searcher.search([cluster(1, {}, true), cluster(2, { cidrs: ["10.0.0.0/8"] })], { hostname: "x", ip: "::ffff:10.0.0.9" })[0]!.id).toBe(2);
  });

  it("parses CIDRs strictly", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ address: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(parseCidr("10.0.0.1")).toMatchObject({ prefix: 32 });
    for (const bad of ["10.0.0.0/33", "10.0.0/8", "fd00::/129", "x/1", "10.0.0.0/8/1", "10.0.0.0/-1", ""]) expect(parseCidr(bad)).toBeUndefined();
    expect(new CidrSet(["10.0.0.0/8"]).has("not-an-ip")).toBe(false);
  });

  it("matches IPv4 ranges at their edges, host bits in a CIDR ignored", () => {
    const set = new CidrSet(["10.2.3.4/24", "192.168.1.1", "255.255.255.255/32", "fd00::/8"]);
    for (const ip of ["10.2.3.0", "10.2.3.255", "192.168.1.1", "255.255.255.255", "::ffff:10.2.3.9", "fd00::1"]) expect(set.has(ip), ip).toBe(true);
    for (const ip of ["10.2.2.255", "10.2.4.0", "192.168.1.2", "255.255.255.254", "fe80::1"]) expect(set.has(ip), ip).toBe(false);
    expect(new CidrSet(["0.0.0.0/0"]).has("203.0.113.9")).toBe(true);
  });
});

describe("resolving a searcher from config", () => {
  it("takes a built-in name, or a module whose default export is a factory", async () => {
    expect((await resolveSearcher("default")).name).toBe("default");
    const dir = await mkdtemp(join(tmpdir(), "df-searcher-"));
    await writeFile(
      join(dir, "last.mjs"),
      "export default (options) => ({ name: 'last', search: (clusters) => [...clusters].reverse().slice(0, options.n ?? 1) });\n",
    );
    const custom = await resolveSearcher(["./last.mjs", { n: 1 }], dir);
    expect(custom.search([cluster(1, {}), cluster(2, {})], { hostname: "h", ip: "1.1.1.1" }).map((c) => c.id)).toEqual([2]);
  });

  it("names the problem when the searcher cannot be found", async () => {
    await expect(resolveSearcher("nearest")).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/no searcher named "nearest"; built-in: default/) });
    await expect(resolveSearcher("./missing.mjs", tmpdir())).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/cannot load module/) });
  });
});
