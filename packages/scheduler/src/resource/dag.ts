import { DfError } from "@df/interface";

export interface DagOptions {
  /**
   * Lets edges close cycles (A → B beside B → A), so peers of a task trade pieces both
   * ways. Pieces move one at a time, and a child asks a parent only for pieces the parent
   * already announced, so no peer can end up waiting on itself through a cycle. Off: the
   * graph stays acyclic, each new edge checked by a walk from the child.
   */
  allowCycles?: boolean;
}

/**
 * The parent → child edges of one task's peers: who may ask whom for pieces. Acyclic
 * unless `allowCycles` is set; either way no self-edges and no duplicate edges.
 */
export class Dag<V = unknown> {
  readonly #vertices = new Map<string, { value: V; parents: Set<string>; children: Set<string> }>();
  readonly #allowCycles: boolean;

  constructor(options: DagOptions = {}) {
    this.#allowCycles = options.allowCycles ?? false;
  }

  get allowsCycles(): boolean {
    return this.#allowCycles;
  }

  get size(): number {
    return this.#vertices.size;
  }

  has(id: string): boolean {
    return this.#vertices.has(id);
  }

  get(id: string): V | undefined {
    return this.#vertices.get(id)?.value;
  }

  values(): IterableIterator<V> {
    return Array.from(this.#vertices.values(), (v) => v.value)[Symbol.iterator]();
  }

  ids(): string[] {
    return [...this.#vertices.keys()];
  }

  addVertex(id: string, value: V): void {
    if (this.#vertices.has(id)) {
      throw new DfError("ALREADY_EXISTS", `vertex ${id} is already in the graph`);
    }
    this.#vertices.set(id, { value, parents: new Set(), children: new Set() });
  }

  /** Removes a vertex and every edge touching it. */
  deleteVertex(id: string): void {
    const vertex = this.#vertices.get(id);
    if (!vertex) return;
    for (const parent of vertex.parents) this.#vertices.get(parent)?.children.delete(id);
    for (const child of vertex.children) this.#vertices.get(child)?.parents.delete(id);
    this.#vertices.delete(id);
  }

  parents(id: string): string[] {
    return [...(this.#vertex(id).parents)];
  }

  children(id: string): string[] {
    return [...(this.#vertex(id).children)];
  }

  inDegree(id: string): number {
    return this.#vertex(id).parents.size;
  }

  outDegree(id: string): number {
    return this.#vertex(id).children.size;
  }

  /**
   * True when the edge parent → child may be added: both exist, they differ, the edge is
   * new, and (in an acyclic graph) child cannot already reach parent.
   */
  canAddEdge(parentId: string, childId: string): boolean {
    if (parentId === childId) return false;
    const parent = this.#vertices.get(parentId);
    const child = this.#vertices.get(childId);
    if (!parent || !child || parent.children.has(childId)) return false;
    return this.#allowCycles || !this.#reaches(childId, parentId);
  }

  /**
   * Every vertex `id` reaches along child edges (itself excluded): in an acyclic graph,
   * the peers that may not become its parents. One walk, for a caller that checks many
   * candidates at once instead of walking once per candidate.
   */
  descendants(id: string): Set<string> {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length > 0) {
      for (const child of this.#vertices.get(stack.pop()!)?.children ?? []) {
        if (child !== id && !seen.has(child)) {
          seen.add(child);
          stack.push(child);
        }
      }
    }
    return seen;
  }

  addEdge(parentId: string, childId: string): void {
    if (!this.canAddEdge(parentId, childId)) {
      const cycle = this.#allowCycles ? "" : ", close a cycle";
      throw new DfError(
        "FAILED_PRECONDITION",
        `edge ${parentId} → ${childId} would duplicate an edge, join a vertex to itself${cycle} or name a missing vertex`,
      );
    }
    this.#vertices.get(parentId)!.children.add(childId);
    this.#vertices.get(childId)!.parents.add(parentId);
  }

  deleteEdge(parentId: string, childId: string): void {
    this.#vertices.get(parentId)?.children.delete(childId);
    this.#vertices.get(childId)?.parents.delete(parentId);
  }

  /** Drops every edge into `id`: the peer is about to get new parents, or none. */
  deleteInEdges(id: string): void {
    const vertex = this.#vertices.get(id);
    if (!vertex) return;
    for (const parent of vertex.parents) this.#vertices.get(parent)?.children.delete(id);
    vertex.parents.clear();
  }

  deleteOutEdges(id: string): void {
    const vertex = this.#vertices.get(id);
    if (!vertex) return;
    for (const child of vertex.children) this.#vertices.get(child)?.parents.delete(id);
    vertex.children.clear();
  }

  #vertex(id: string) {
    const vertex = this.#vertices.get(id);
    if (!vertex) throw new DfError("NOT_FOUND", `vertex ${id} is not in the graph`);
    return vertex;
  }

  /** Iterative DFS along child edges; bounded by the vertex count. */
  #reaches(fromId: string, targetId: string): boolean {
    const seen = new Set<string>([fromId]);
    const stack = [fromId];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (id === targetId) return true;
      for (const child of this.#vertices.get(id)?.children ?? []) {
        if (!seen.has(child)) {
          seen.add(child);
          stack.push(child);
        }
      }
    }
    return false;
  }
}
