import { hasErrorCode } from "@df/interface";
import { describe, expect, it } from "vitest";
import { Dag, type DagOptions } from "./dag.js";

function chain(...ids: string[]): Dag<string> {
  return chainWith({}, ...ids);
}

function chainWith(options: DagOptions, ...ids: string[]): Dag<string> {
  const dag = new Dag<string>(options);
  for (const id of ids) dag.addVertex(id, id);
  for (let i = 1; i < ids.length; i++) dag.addEdge(ids[i - 1]!, ids[i]!);
  return dag;
}

describe("Dag", () => {
  it("refuses edges that would close a cycle, however long", () => {
    const dag = chain("a", "b", "c", "d");
    expect(dag.canAddEdge("d", "a")).toBe(false);
    expect(dag.canAddEdge("c", "a")).toBe(false);
    expect(dag.canAddEdge("b", "b")).toBe(false);
    expect(dag.canAddEdge("a", "d")).toBe(true);
    expect(() => dag.addEdge("d", "a")).toThrow(/close a cycle/);
  });

  it("lists every vertex a vertex reaches, itself excluded, in one walk: the peers that may not be its parents", () => {
    const dag = chain("a", "b", "c", "d");
    dag.addVertex("e", "e");
    dag.addVertex("x", "x");
    dag.addEdge("b", "e");
    expect(dag.descendants("b")).toEqual(new Set(["c", "d", "e"]));
    expect(dag.descendants("d")).toEqual(new Set());
    expect(dag.descendants("missing")).toEqual(new Set());
    for (const id of ["a", "b", "c", "d", "e", "x"]) {
      const below = dag.descendants("a");
      expect(below.has(id), id).toBe(id !== "a" && !dag.canAddEdge(id, "a") && id !== "x");
    }
    const cyclic = chainWith({ allowCycles: true }, "p", "q");
    cyclic.addEdge("q", "p");
    expect(cyclic.descendants("p")).toEqual(new Set(["q"]));
  });

  it("stays acyclic when allowCycles is false, as by default", () => {
    const dag = chainWith({ allowCycles: false }, "a", "b", "c");
    expect(dag.canAddEdge("b", "a")).toBe(false);
    expect(dag.canAddEdge("c", "a")).toBe(false);
  });

  it("with allowCycles, takes edges both ways and longer cycles, and still refuses self-edges, duplicates and missing vertices", () => {
    const dag = chainWith({ allowCycles: true }, "a", "b", "c");
    dag.addEdge("b", "a");
    dag.addEdge("c", "a");
    expect(dag.parents("a").sort()).toEqual(["b", "c"]);
    expect(dag.children("a")).toEqual(["b"]);
    expect(dag.canAddEdge("a", "a")).toBe(false);
    expect(dag.canAddEdge("a", "b")).toBe(false);
    expect(dag.canAddEdge("a", "zz")).toBe(false);
    expect(() => dag.addEdge("a", "b")).toThrow(/duplicate an edge, join a vertex to itself or name a missing vertex/);
    // Removing a vertex on a cycle leaves the rest consistent.
    dag.deleteVertex("b");
    expect(dag.parents("a")).toEqual(["c"]);
    expect(dag.children("a")).toEqual([]);
    expect(dag.parents("c")).toEqual([]);
    dag.deleteInEdges("a");
    expect(dag.outDegree("c")).toBe(0);
  });

  it("refuses duplicate edges and edges to missing vertices", () => {
    const dag = chain("a", "b");
    expect(dag.canAddEdge("a", "b")).toBe(false);
    expect(dag.canAddEdge("a", "zz")).toBe(false);
    expect(dag.canAddEdge("zz", "a")).toBe(false);
  });

  it("tracks degrees and drops edges with the vertex", () => {
    const dag = chain("seed", "p1");
    dag.addVertex("p2", "p2");
    dag.addEdge("seed", "p2");
    dag.addEdge("p1", "p2");
    expect(dag.inDegree("p2")).toBe(2);
    expect(dag.outDegree("seed")).toBe(2);
    dag.deleteVertex("p1");
    expect(dag.parents("p2")).toEqual(["seed"]);
    expect(dag.children("seed").sort()).toEqual(["p2"]);
    expect(dag.size).toBe(2);
  });

  it("lets a peer be rescheduled: in-edges go, and an old child may become its parent", () => {
    const dag = chain("a", "b");
    expect(dag.canAddEdge("b", "a")).toBe(false);
    dag.deleteOutEdges("a");
    expect(dag.canAddEdge("b", "a")).toBe(true);
    dag.addEdge("b", "a");
    dag.deleteInEdges("a");
    expect(dag.inDegree("a")).toBe(0);
    expect(dag.outDegree("b")).toBe(0);
  });

  it("reports missing and duplicate vertices with their codes", () => {
    const dag = chain("a");
    let error: unknown;
    try {
      dag.parents("x");
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, "NOT_FOUND")).toBe(true);
    expect(() => dag.addVertex("a", "a")).toThrow(/already in the graph/);
  });

  it("keeps a random graph acyclic under many random edge attempts", () => {
    const dag = new Dag<number>();
    const n = 60;
    for (let i = 0; i < n; i++) dag.addVertex(String(i), i);
    let state = 12345;
    const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let attempt = 0; attempt < 2000; attempt++) {
      const a = String(Math.floor(random() * n));
      const b = String(Math.floor(random() * n));
      if (dag.canAddEdge(a, b)) dag.addEdge(a, b);
    }
    // A topological order exists exactly when there is no cycle (Kahn's algorithm).
    const inDegree = new Map(dag.ids().map((id) => [id, dag.inDegree(id)]));
    const ready = dag.ids().filter((id) => inDegree.get(id) === 0);
    let visited = 0;
    while (ready.length > 0) {
      const id = ready.pop()!;
      visited++;
      for (const child of dag.children(id)) {
        inDegree.set(child, inDegree.get(child)! - 1);
        if (inDegree.get(child) === 0) ready.push(child);
      }
    }
    expect(visited).toBe(n);
  });
});
