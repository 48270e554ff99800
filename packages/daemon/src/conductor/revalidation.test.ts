import path from "node:path";
import { describe, expect, it } from "vitest";
import { generateContent } from "@df/compliance-tests";
import { DEAD_SCHEDULER, download, sha256, sha256File, startDaemon, startOrigin } from "../test-support/cluster.js";

// The daemon's revalidation knobs (download.revalidate, download.freshFor) and what it
// does when the origin cannot be asked; the multi-process cases are in test/e2e.

const contentSha = (seed: number, size: number) => sha256(Buffer.from(generateContent(seed, 0, size)));
let serial = 0;

async function fetchTo(daemon: { dir: string; addresses: { socket: string } }, url: string, digest?: string): Promise<string> {
  const output = path.join(daemon.dir, `out-${++serial}.bin`);
  await download(daemon.addresses.socket, { url, outputPath: output, ...(digest ? { digest } : {}) });
  return sha256File(output);
}

describe("revalidation settings", () => {
  it("asks the origin again only after download.freshFor", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/fresh.bin", { size: 1000, seed: 1 });
    // A clock moved by hand, so the test does not wait a minute.
    let skew = 0;
    const clock = { now: () => Date.now() + skew };
    const daemon = await startDaemon({ name: "fresh", scheduler: DEAD_SCHEDULER, config: { download: { freshFor: "1m" } }, deps: { clock } });

    expect(await fetchTo(daemon, url)).toBe(contentSha(1, 1000));
    expect(origin.stats("/fresh.bin").heads).toBe(2); // the revalidation HEAD and the fetch's stat
    const requests = origin.stats("/fresh.bin").requests;
    origin.publish("/fresh.bin", { size: 1000, seed: 2 });
    // Within a minute: no request, the held copy.
    expect(await fetchTo(daemon, url)).toBe(contentSha(1, 1000));
    expect(origin.stats("/fresh.bin").requests).toBe(requests);
    skew += 61_000;
    expect(await fetchTo(daemon, url)).toBe(contentSha(2, 1000));
    expect(origin.stats("/fresh.bin")).toMatchObject({ conditionals: 1, notModified: 0 });
  });

  it("with revalidate: never, uses a held copy without asking, but asks when nothing is held", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/never.bin", { size: 1000, seed: 3 });
    const daemon = await startDaemon({ name: "never", scheduler: DEAD_SCHEDULER, config: { download: { revalidate: "never" } } });
    expect(await fetchTo(daemon, url)).toBe(contentSha(3, 1000));
    const requests = origin.stats("/never.bin").requests;
    origin.publish("/never.bin", { size: 1000, seed: 4 });
    expect(await fetchTo(daemon, url)).toBe(contentSha(3, 1000));
    expect(origin.stats("/never.bin").requests).toBe(requests);
    // A digest the held copy fails makes it ask anyway, and fetch the new version.
    expect(await fetchTo(daemon, url, `sha256:${contentSha(4, 1000)}`)).toBe(contentSha(4, 1000));
    expect(origin.stats("/never.bin").conditionals).toBe(1);
  });

  it("serves the held copy when the origin cannot be asked; with nothing held, fails on a definite answer and goes on unversioned otherwise", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/down.bin", { size: 1000, seed: 5 });
    const daemon = await startDaemon({ name: "down", scheduler: DEAD_SCHEDULER });
    expect(await fetchTo(daemon, url)).toBe(contentSha(5, 1000));
    origin.publish("/down.bin", { size: 1000, seed: 6 }, { status: 503 });
    expect(await fetchTo(daemon, url)).toBe(contentSha(5, 1000));

    const missing = origin.url("/never-published.bin");
    await expect(fetchTo(daemon, missing)).rejects.toThrow(/could not ask the origin of .*never-published\.bin for its current version/);
    expect(origin.stats("/never-published.bin").requests).toBe(1);

    // The revalidation HEAD fails once (a blip, or this host's network): the download
    // goes on under the unversioned task ID, and the fetch gets the content.
    const flaky = origin.publish("/flaky.bin", { size: 1000, seed: 7 }, { fail: { times: 1, status: 503 } });
    expect(await fetchTo(daemon, flaky)).toBe(contentSha(7, 1000));
    const held = daemon.storage.listTasks().find((task) => task.info.url === flaky);
    expect(held?.version).toBeUndefined();
    expect(held?.id).toBe(held?.baseTaskId);
  });

  it("does not wait on an origin that is slow to answer past download.revalidateTimeout: the held copy is used", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/slow.bin", { size: 1000, seed: 10 });
    const daemon = await startDaemon({ name: "slow", scheduler: DEAD_SCHEDULER, config: { download: { revalidateTimeout: "300ms" } } });
    expect(await fetchTo(daemon, url)).toBe(contentSha(10, 1000));
    // Headers after 20 s: the source's own header timeout (30 s) would hold the download up.
    origin.publish("/slow.bin", { size: 1000, seed: 10 }, { delayMs: 20_000 });
    const started = performance.now();
    expect(await fetchTo(daemon, url)).toBe(contentSha(10, 1000));
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("fetches content from an origin with no validators and no length again when a held copy fails the digest", async () => {
    const origin = await startOrigin();
    const bare = { validators: "none", contentLength: false, ranges: false } as const;
    const url = origin.publish("/bare.bin", { size: 3000, seed: 8 }, bare);
    const daemon = await startDaemon({ name: "bare", scheduler: DEAD_SCHEDULER });
    expect(await fetchTo(daemon, url)).toBe(contentSha(8, 3000));
    origin.publish("/bare.bin", { size: 3000, seed: 9 }, bare);
    // Nothing tells the versions apart: the held copy, as documented.
    expect(await fetchTo(daemon, url)).toBe(contentSha(8, 3000));
    expect(await fetchTo(daemon, url, `sha256:${contentSha(9, 3000)}`)).toBe(contentSha(9, 3000));
    // The copy that failed the digest is gone; the one that passed is what a download gets now.
    expect(daemon.storage.listTasks().filter((task) => task.info.url === url)).toHaveLength(1);
  });
});
