import { isDfError, type ErrorCode, type SourceClient, type SourceResponse } from "@df/interface";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContentSpec } from "./content.js";
import { collectGarbage } from "./gc.js";
import { expectContent } from "./verify.js";

export { type ContentSpec, type GeneratedContent, contentSize, contentSlice, generateContent } from "./content.js";
export { fillContent, contentChunks } from "./content.js";
export { expectContent } from "./verify.js";
export { collectGarbage } from "./gc.js";
export * from "./origin-server.js";
export { parseRangeHeader, type ByteSpan } from "./origin-range.js";

export interface SourcePublishOptions {
  /**
   * Whether the origin behind the URL honours byte ranges (default true). Only a hint:
   * a source whose origins always serve ranges may ignore `false`.
   */
  readonly ranges?: boolean;
}

/** What a source's test file gives the suite: a client and a place to put content. */
export interface SourceHarness {
  readonly client: SourceClient;
  /** Makes `content` readable by `client` under a URL made from `path`; returns that URL. */
  publish(path: string, content: ContentSpec, options?: SourcePublishOptions): Promise<string>;
  /** A URL the client serves under which nothing exists. */
  missing(path: string): Promise<string>;
  /** Closes the client and whatever `publish` started. */
  teardown(): Promise<void>;
}

export interface SourceComplianceOptions {
  /**
   * Whether the source serves byte ranges (default true). false turns the range tests
   * into "a ranged get is refused with a DfError".
   */
  readonly ranges?: boolean;
  /** Size of the bounded-memory resource (default 64 MiB). */
  readonly largeBytes?: number;
  /** Piece length whose boundaries the range tests straddle (default 4 MiB, df's smallest). */
  readonly pieceBytes?: number;
}

const MiB = 1024 * 1024;
/** However slow the machine, a cancelled or aborted body must settle well within this. */
const SETTLE_MS = 5_000;

/**
 * Registers the tests every source client must pass. Call it from the source's own
 * test file; `setup` runs once for the suite and `teardown` after it.
 *
 * ```ts
 * describeSourceCompliance("http", async () => {
 *   const origin = await startOriginServer();
 *   const client = createHttpSource();
 *   return {
 *     client,
 *     publish: async (path, content, options) => origin.publish(path, content, options),
 *     missing: async (path) => origin.url(path),
 *     teardown: async () => { await client.close?.(); await origin.close(); },
 *   };
 * });
 * ```
 */
export function describeSourceCompliance(
  name: string,
  setup: () => Promise<SourceHarness>,
  options: SourceComplianceOptions = {},
): void {
  const ranges = options.ranges ?? true;
  const largeBytes = options.largeBytes ?? 64 * MiB;
  const piece = options.pieceBytes ?? 4 * MiB;

  describe(`source compliance: ${name}`, () => {
    let harness: SourceHarness;
    let serial = 0;
    const client = (): SourceClient => harness.client;
    const publish = (label: string, content: ContentSpec, publishOptions?: SourcePublishOptions): Promise<string> =>
      harness.publish(`/compliance/${++serial}-${label}`, content, publishOptions);

    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => {
      await harness?.teardown();
    });

    it("names itself and the URL schemes it serves", async () => {
      expect(typeof client().name).toBe("string");
      expect(client().name).not.toBe("");
      expect(client().schemes.length).toBeGreaterThan(0);
      const url = await publish("scheme", new Uint8Array([1]));
      const scheme = new URL(url).protocol.slice(0, -1);
      expect(client().schemes).toContain(scheme);
    });

    it.each([1, 4095, 4096, 4097, MiB + 7])("stat reports the exact length of a %i-byte resource", async (size) => {
      const url = await publish(`stat-${size}`, { size, seed: size });
      const stat = await client().stat({ url });
      expect(stat.contentLength).toBe(size);
      expect(typeof stat.supportsRange).toBe("boolean");
    });

    it("get of a whole generated resource yields exactly its bytes", async () => {
      const content = { size: 3 * MiB + 5, seed: 11 };
      const url = await publish("whole", content);
      const response = await client().get({ url });
      if (response.contentLength !== undefined) expect(response.contentLength).toBe(content.size);
      expect(await expectContent(response.body, content)).toBe(content.size);
    });

    it("get of literal bytes yields exactly those bytes", async () => {
      const content = new TextEncoder().encode("the origin serves it about once; peers serve each other\n");
      const url = await publish("literal", content);
      expect((await client().stat({ url })).contentLength).toBe(content.length);
      await expectContent((await client().get({ url })).body, content);
    });

    it("an empty resource has length 0 and an empty body", async () => {
      const url = await publish("empty", new Uint8Array(0));
      expect((await client().stat({ url })).contentLength).toBe(0);
      const response = await client().get({ url });
      if (response.contentLength !== undefined) expect(response.contentLength).toBe(0);
      expect(await expectContent(response.body, new Uint8Array(0))).toBe(0);
    });

    it("a 1-byte resource has length 1 and that byte", async () => {
      const content = new Uint8Array([0xa5]);
      const url = await publish("one-byte", content);
      expect((await client().stat({ url })).contentLength).toBe(1);
      await expectContent((await client().get({ url })).body, content);
      if (ranges) await expectContent((await client().get({ url, range: { start: 0, length: 1 } })).body, content);
    });

    it("a missing resource is NOT_FOUND on stat and on get", async () => {
      const url = await harness.missing(`/compliance/${++serial}-missing`);
      expectCode(await rejection(client().stat({ url })), "NOT_FOUND");
      expectCode(await rejection(client().get({ url })), "NOT_FOUND");
    });

    describe("byte ranges", () => {
      const size = 2 * piece + piece / 2 + 3;
      const content = { size, seed: 7 };
      let url: string;
      beforeAll(async () => {
        url = await publish("ranges", content);
      });

      const cases: Array<[string, number, number]> = [
        ["the first byte", 0, 1],
        ["the first 1000 bytes", 0, 1000],
        ["a middle slice", 12_345, 54_321],
        ["one whole piece", piece, piece],
        ["a slice across a piece boundary", piece - 100, 200],
        ["the last partial piece", 2 * piece, size - 2 * piece],
        ["the last byte", size - 1, 1],
        ["the whole resource", 0, size],
      ];

      if (ranges) {
        it("stat says the source serves ranges", async () => {
          const stat = await client().stat({ url });
          expect(stat.supportsRange).toBe(true);
          expect(stat.contentLength).toBe(size);
        });

        it.each(cases)("a ranged get of %s yields exactly those bytes", async (_label, start, length) => {
          const response = await client().get({ url, range: { start, length } });
          if (response.contentLength !== undefined) expect(response.contentLength).toBe(length);
          expect(await expectContent(response.body, content, start, length)).toBe(length);
        });

        it("concurrent gets of different ranges each yield their own bytes", async () => {
          const spans = Array.from({ length: 8 }, (_, i) => ({
            start: i * Math.floor(size / 9) + i * 7,
            length: Math.floor(piece / 8) + i * 1000,
          }));
          const counts = await Promise.all(
            spans.map(async (range) => {
              const response = await client().get({ url, range });
              return expectContent(response.body, content, range.start, range.length);
            }),
          );
          expect(counts).toEqual(spans.map((span) => span.length));
        });
      } else {
        it("a ranged get is refused with a DfError", async () => {
          const error = await rejection(
            client()
              .get({ url, range: { start: 1, length: 10 } })
              .then((response) => drain(response)),
          );
          expect(isDfError(error), String(error)).toBe(true);
        });
      }
    });

    it("concurrent whole gets each yield the whole resource", async () => {
      const content = { size: 2 * MiB + 1, seed: 23 };
      const url = await publish("concurrent", content);
      const counts = await Promise.all(
        Array.from({ length: 4 }, async () => expectContent((await client().get({ url })).body, content)),
      );
      expect(counts).toEqual([content.size, content.size, content.size, content.size]);
    });

    it("an already aborted signal is CANCELLED before any byte", async () => {
      const url = await publish("pre-aborted", { size: 1000, seed: 3 });
      const signal = AbortSignal.abort(new Error("caller gave up"));
      expectCode(await rejection(client().stat({ url }, { signal })), "CANCELLED");
      expectCode(await rejection(client().get({ url }, { signal })), "CANCELLED");
    });

    it("an abort mid-body ends the body with CANCELLED, promptly", async () => {
      const content = { size: 16 * MiB, seed: 5 };
      const url = await publish("abort", content);
      const controller = new AbortController();
      const response = await client().get({ url }, { signal: controller.signal });
      const iterator = response.body[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      controller.abort(new Error("caller gave up"));
      const outcome = await within(SETTLE_MS, rejection(readRest(iterator)), "the aborted body");
      expectCode(outcome, "CANCELLED");
      // The client is still usable afterwards.
      expect(await expectContent((await client().get({ url })).body, content)).toBe(content.size);
    });

    it("cancel() mid-body releases the response without a hang", async () => {
      const content = { size: 16 * MiB, seed: 6 };
      const url = await publish("cancel", content);
      const response = await client().get({ url });
      const iterator = response.body[Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(false);
      await within(SETTLE_MS, response.cancel(new Error("not needed")), "cancel()");
      const outcome = await within(
        SETTLE_MS,
        readRest(iterator).then(
          () => undefined,
          (error: unknown) => error,
        ),
        "the cancelled body",
      );
      if (outcome !== undefined) expect(isDfError(outcome), String(outcome)).toBe(true);
      expect(await expectContent((await client().get({ url })).body, content)).toBe(content.size);
    });

    it(
      "a large resource streams with bounded memory",
      async () => {
        const content = { size: largeBytes, seed: 64 };
        const url = await publish("large", content);
        expect((await client().stat({ url })).contentLength).toBe(largeBytes);
        const precise = collectGarbage();
        const before = process.memoryUsage().arrayBuffers;
        const response = await client().get({ url });
        const iterator = response.body[Symbol.asyncIterator]();
        const first = await iterator.next();
        expect(first.done).toBe(false);
        // A client that reads ahead without bound pulls the whole body into memory while
        // the consumer stalls; a streaming one stays near its buffer sizes (a few MiB).
        await new Promise((resolve) => setTimeout(resolve, 300));
        collectGarbage();
        const held = process.memoryUsage().arrayBuffers - before;
        expect(held, `bytes held while the consumer stalled: ${held}`).toBeLessThan(largeBytes / (precise ? 4 : 2));
        const rest = prepend(first.done ? undefined : first.value, iterator);
        expect(await expectContent(rest, content)).toBe(largeBytes);
      },
      120_000,
    );
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but the call succeeded");
}

function expectCode(error: unknown, code: ErrorCode): void {
  expect(isDfError(error), `expected a DfError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: ErrorCode }).code, String(error)).toBe(code);
}

async function readRest(iterator: AsyncIterator<Uint8Array>): Promise<void> {
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    // Reading only; the bytes do not matter here.
  }
}

async function drain(response: SourceResponse): Promise<void> {
  for await (const _chunk of response.body) {
    // Reading only.
  }
}

async function* prepend(first: Uint8Array | undefined, iterator: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (first !== undefined) yield first;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
}

async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
