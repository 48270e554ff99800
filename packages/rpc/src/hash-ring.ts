import ConsistentHash from "consistent-hash";

/**
 * A consistent-hash ring over node names that every process builds identically: points
 * are placed uniformly (the library's default places them with Math.random, so two
 * processes would disagree) and nodes are added in sorted order. The scheduler picks a
 * task's seed peer with it and the daemon a task's scheduler, so that every process
 * sends a task to the same place.
 */
export class HashRing {
  readonly #nodes: readonly string[];
  readonly #ring: ConsistentHash;

  constructor(nodes: Iterable<string>) {
    this.#nodes = [...new Set(nodes)].sort();
    this.#ring = new ConsistentHash({ distribution: "uniform" });
    for (const node of this.#nodes) this.#ring.add(node);
  }

  get nodes(): readonly string[] {
    return this.#nodes;
  }

  /** The node that owns `key`, or undefined for an empty ring. */
  get(key: string): string | undefined {
    return this.#nodes.length === 0 ? undefined : (this.#ring.get(key) ?? undefined);
  }

  /** Up to `count` distinct nodes in ring order from `key`: the owner, then fallbacks. */
  getN(key: string, count: number): string[] {
    return this.#nodes.length === 0 ? [] : this.#ring.get(key, Math.min(count, this.#nodes.length));
  }
}
