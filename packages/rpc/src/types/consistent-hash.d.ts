declare module "consistent-hash" {
  interface ConsistentHashOptions {
    range?: number;
    weight?: number;
    distribution?: "random" | "uniform";
    orderNodes?: (nodes: string[]) => string[];
  }
  class ConsistentHash {
    constructor(options?: ConsistentHashOptions);
    add(node: string, weight?: number, points?: number[]): this;
    remove(node: string): this;
    get(key: string): string | null;
    get(key: string, count: number): string[];
    getNodes(): string[];
    nodeCount: number;
  }
  export = ConsistentHash;
}
