import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { HashRing } from "./hash-ring.js";

const keys = Array.from({ length: 2000 }, (_, i) => `task-${i}`);

describe("HashRing", () => {
  it("maps keys the same way whatever order the nodes arrive in", () => {
    const a = new HashRing(["seed-a", "seed-b", "seed-c"]);
    const b = new HashRing(["seed-c", "seed-a", "seed-b", "seed-a"]);
    expect(keys.map((k) => a.get(k))).toEqual(keys.map((k) => b.get(k)));
  });

  it("maps keys the same way in another process", () => {
    const here = keys.slice(0, 50).map((k) => new HashRing(["s1", "s2", "s3"]).get(k));
    const script = `
      const CH = require("consistent-hash");
      const ring = new CH({ distribution: "uniform" });
      for (const n of ["s1", "s2", "s3"]) ring.add(n);
      console.log(JSON.stringify(${JSON.stringify(keys.slice(0, 50))}.map((k) => ring.get(k))));`;
    const there = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: import.meta.dirname, encoding: "utf8" }));
    expect(there).toEqual(here);
  });

  it("spreads keys over every node and gives distinct fallbacks", () => {
    const ring = new HashRing(["s1", "s2", "s3"]);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(ring.get(k)!, (counts.get(ring.get(k)!) ?? 0) + 1);
    for (const node of ["s1", "s2", "s3"]) expect(counts.get(node)).toBeGreaterThan(keys.length / 6);
    const fallbacks = ring.getN("task-1", 5);
    expect(new Set(fallbacks).size).toBe(3);
    expect(fallbacks[0]).toBe(ring.get("task-1"));
  });

  it("is empty-safe", () => {
    expect(new HashRing([]).get("x")).toBeUndefined();
    expect(new HashRing([]).getN("x", 3)).toEqual([]);
  });
});
