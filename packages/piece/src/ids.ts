import { randomUUID } from "node:crypto";
import { DfError } from "@df/interface/errors";

export interface IdOptions {
  /** A seed peer's host and peer IDs end in `-seed`. */
  seed?: boolean;
}

function assertPart(value: string, name: string): void {
  if (typeof value !== "string" || value === "") {
    throw new DfError("INVALID_ARGUMENT", `${name} must be a non-empty string to build an ID`, {
      details: { [name]: value },
    });
  }
}

/** `{ip}-{hostname}`, or `{ip}-{hostname}-seed`, as Dragonfly v2 names a host. */
export function hostId(ip: string, hostname: string, options: IdOptions = {}): string {
  assertPart(ip, "ip");
  assertPart(hostname, "hostname");
  return options.seed ? `${ip}-${hostname}-seed` : `${ip}-${hostname}`;
}

/**
 * A fresh peer ID, `{ip}-{hostname}-{uuid v4}` (plus `-seed`): one per download, so a
 * host re-fetching a task is a new peer in the scheduler's DAG.
 */
export function peerId(ip: string, hostname: string, options: IdOptions = {}): string {
  assertPart(ip, "ip");
  assertPart(hostname, "hostname");
  const id = `${ip}-${hostname}-${randomUUID()}`;
  return options.seed ? `${id}-seed` : id;
}

/** `{taskId}-{number}`, the key of one piece in storage metadata. */
export function pieceId(taskId: string, number: number): string {
  assertPart(taskId, "taskId");
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new DfError("INVALID_ARGUMENT", `piece number must be a non-negative integer, got ${String(number)}`, {
      details: { number },
    });
  }
  return `${taskId}-${number}`;
}
