/**
 * @packageDocumentation
 * Pieces of a df task, and the identifiers around them, compatible with Dragonfly v2:
 * how a task is cut into pieces (length, count, ranges, HTTP byte ranges), how bytes
 * are checked (CRC-32 piece digests, whole-file crc32/sha256/sha512 digests, a
 * verifying stream), how tasks, hosts, peers and pieces are named (task IDs reproduce
 * upstream's test vectors), the scheduler's size scope, and a compact bitset of
 * finished pieces. Pure functions and small classes; no I/O.
 */
export * from "./length.js";
export * from "./range.js";
export * from "./http-range.js";
export * from "./crc32.js";
export * from "./digest.js";
export * from "./verifier.js";
export * from "./piece-digest.js";
export * from "./query-params.js";
export * from "./task-id.js";
export * from "./private-scope.js";
export * from "./ids.js";
export * from "./size-scope.js";
export * from "./bitset.js";
