import { type OriginServer, startOriginServer } from "@df/compliance-tests";
import { type DfError, type ErrorCode, isDfError } from "@df/interface";
import { afterAll, beforeAll, expect } from "vitest";
import { createHttpSource, type HttpSourceClient, type HttpSourceOptionsInput } from "../index.js";

/** An origin and a client for one test file, started before its tests and closed after. */
export function useOrigin(options: HttpSourceOptionsInput = {}): { origin: () => OriginServer; client: () => HttpSourceClient } {
  let origin: OriginServer;
  let client: HttpSourceClient;
  beforeAll(async () => {
    origin = await startOriginServer();
    client = loopbackSource(options);
  });
  afterAll(async () => {
    await client?.close();
    await origin?.close();
  });
  return { origin: () => origin, client: () => client };
}

export async function rejection(promise: Promise<unknown>): Promise<DfError> {
  try {
    await promise;
  } catch (error) {
    expect(isDfError(error), `expected a DfError, got ${String(error)}`).toBe(true);
    return error as DfError;
  }
  throw new Error("expected a rejection, but the call succeeded");
}

export async function expectDfError(promise: Promise<unknown>, code: ErrorCode, reason?: string): Promise<DfError> {
  const error = await rejection(promise);
  expect(error.code, error.message).toBe(code);
  if (reason !== undefined) expect(error.reason, error.message).toBe(reason);
  return error;
}

export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

let serial = 0;

/** A fresh path per call, so tests never see each other's routes or counters. */
export function uniquePath(label: string): string {
  return `/t/${++serial}-${label}`;
}

/** Where the tests' origins listen: allowed explicitly, as loopback is refused by default. */
export const LOOPBACK = ["127.0.0.0/8", "::1"];

/** A client that may reach origins on loopback; otherwise the given options. */
export function loopbackSource(options: HttpSourceOptionsInput = {}): HttpSourceClient {
  return createHttpSource({ ...options, destinations: { allow: LOOPBACK, ...options.destinations } });
}
