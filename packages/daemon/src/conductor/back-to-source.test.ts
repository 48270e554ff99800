import { execFileSync } from "node:child_process";
import { lstat, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { contentSlice, generateContent } from "@df/compliance-tests";
import { common } from "@df/rpc";
import {
  DEAD_SCHEDULER,
  download,
  kinds,
  pieces,
  sha256,
  sha256File,
  startDaemon,
  startOrigin,
  tempDir,
} from "../test-support/cluster.js";

const MiB = 1024 * 1024;

/** The SHA-256 of a generated resource, computed slice by slice. */
function contentSha(seed: number, size: number): string {
  return sha256(Buffer.from(generateContent(seed, 0, size)));
}

describe("back to source with no scheduler reachable", () => {
  it("downloads a multi-piece file from the origin, with ranged requests in parallel", async () => {
    const origin = await startOrigin();
    const size = 9 * MiB + 12345;
    const url = origin.publish("/big.bin", { size, seed: 7 });
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });
    const output = path.join(daemon.dir, "out.bin");

    const responses = await download(daemon.addresses.socket, { url, outputPath: output });

    expect(kinds(responses)[0]).toBe("started");
    expect(kinds(responses).at(-1)).toBe("finished");
    const started = responses[0]!.response!;
    expect(started.$case === "started" && started.value).toMatchObject({ contentLength: size, pieceLength: 4 * MiB, pieceCount: 3 });
    const got = pieces(responses);
    expect(got.map((piece) => piece.number).sort()).toEqual([0, 1, 2]);
    expect(got.every((piece) => piece.trafficType === common.TrafficType.BACK_TO_SOURCE && piece.digest.startsWith("crc32:"))).toBe(true);
    const finished = responses.at(-1)!.response!;
    expect(finished.$case === "finished" && finished.value).toMatchObject({ contentLength: size, pieceCount: 3, outputPath: output });
    expect(await sha256File(output)).toBe(contentSha(7, size));
    // One HEAD, the 0-0 probe, and one ranged GET per piece: the body crossed once.
    expect(origin.stats("/big.bin").bytesServed).toBeLessThanOrEqual(size + 1);
    const metrics = await daemon.metrics.text();
    expect(metrics).toMatch(/df_daemon_pieces_total\{source="back_to_source",host_id="127\.0\.0\.1-solo"\} 3/);
    expect(metrics).toMatch(new RegExp(`df_daemon_piece_bytes_total\\{source="back_to_source",host_id="[^"]+"\\} ${size}`));
    expect(metrics).toMatch(/df_daemon_downloads_total\{outcome="succeeded",host_id="[^"]+"\} 1/);
  });

  it("cuts one streamed GET into pieces when the origin ignores ranges", async () => {
    const origin = await startOrigin();
    const size = 5 * MiB + 3;
    const url = origin.publish("/noranges.bin", { size, seed: 8 }, { ranges: false });
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });
    const output = path.join(daemon.dir, "out.bin");

    await download(daemon.addresses.socket, { url, outputPath: output });

    expect(await sha256File(output)).toBe(contentSha(8, size));
    expect(origin.stats("/noranges.bin").gets).toBe(1);
  });

  it("stores a resource whose length the origin does not announce", async () => {
    const origin = await startOrigin();
    const size = 4 * MiB + 10;
    const url = origin.publish("/chunked.bin", { size, seed: 9 }, { contentLength: false, ranges: false, head: false });
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });
    const output = path.join(daemon.dir, "out.bin");

    const responses = await download(daemon.addresses.socket, { url, outputPath: output });

    expect(await sha256File(output)).toBe(contentSha(9, size));
    expect(pieces(responses)).toHaveLength(2);
  });

  it("creates, completes and exports an empty file", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/empty", new Uint8Array(0));
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });
    const output = path.join(daemon.dir, "empty.out");

    const responses = await download(daemon.addresses.socket, { url, outputPath: output });

    expect(kinds(responses)).toEqual(["started", "finished"]);
    expect((await stat(output)).size).toBe(0);
  });

  it("downloads a one-byte file", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/one", Buffer.from("x"));
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });
    const output = path.join(daemon.dir, "one.out");

    await download(daemon.addresses.socket, { url, outputPath: output });

    expect(await readFile(output, "utf8")).toBe("x");
  });

  it("shares one download between two concurrent requests for the same URL", async () => {
    const origin = await startOrigin();
    const size = 12 * MiB;
    // Slow answers keep the first download running while the second request joins it.
    const url = origin.publish("/shared.bin", { size, seed: 10 }, { delayMs: 150 });
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });
    const [a, b] = [path.join(daemon.dir, "a.out"), path.join(daemon.dir, "b.out")];

    const first = download(daemon.addresses.socket, { url, outputPath: a });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = download(daemon.addresses.socket, { url, outputPath: b });
    const [ra, rb] = await Promise.all([first, second]);

    expect(await sha256File(a)).toBe(contentSha(10, size));
    expect(await sha256File(b)).toBe(contentSha(10, size));
    expect(ra[0]!.peerId).toBe(rb[0]!.peerId);
    expect(origin.stats("/shared.bin").bytesServed).toBeLessThanOrEqual(size + 1);
  });

  it("serves a complete task from local storage after one conditional HEAD, without fetching from the origin", async () => {
    const origin = await startOrigin();
    const size = 6 * MiB;
    const url = origin.publish("/cached.bin", { size, seed: 11 });
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });
    await download(daemon.addresses.socket, { url, outputPath: path.join(daemon.dir, "first.out") });
    origin.resetStats();

    const output = path.join(daemon.dir, "second.out");
    const responses = await download(daemon.addresses.socket, { url, outputPath: output });

    // Revalidation: one HEAD with If-None-Match, answered 304; no byte of the content.
    expect(origin.stats("/cached.bin")).toMatchObject({ requests: 1, heads: 1, notModified: 1, bytesServed: 0 });
    expect(kinds(responses)).toEqual(["started", "finished"]);
    const started = responses[0]!.response!;
    expect(started.$case === "started" && started.value.isFinished).toBe(true);
    expect(started.$case === "started" && started.value.pieces.every((p) => p.trafficType === common.TrafficType.LOCAL_PEER)).toBe(true);
    expect(await sha256File(output)).toBe(contentSha(11, size));
  });

  it("answers NOT_FOUND when the origin has no such file", async () => {
    const origin = await startOrigin();
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });

    await expect(download(daemon.addresses.socket, { url: origin.url("/missing") })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("fails clearly, without fetching from the origin, when back-to-source is disabled and no scheduler answers", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/p2p-only", { size: MiB, seed: 12 });
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });

    const failure = download(daemon.addresses.socket, { url, disableBackToSource: true });

    await expect(failure).rejects.toMatchObject({ message: expect.stringContaining("back-to-source is disabled") });
    // Only the HEAD that names the version the swarm would hold.
    expect(origin.stats("/p2p-only")).toMatchObject({ requests: 1, heads: 1, gets: 0 });
  });

  it("fetches only the pieces a byte range touches", async () => {
    const origin = await startOrigin();
    const size = 17 * MiB;
    const url = origin.publish("/ranged.bin", { size, seed: 13 });
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });
    const output = path.join(daemon.dir, "range.out");
    const range = { start: 5 * MiB, length: 2 * MiB };

    const responses = await download(daemon.addresses.socket, { url, range, outputPath: output });

    expect(pieces(responses).map((piece) => piece.number)).toEqual([1]);
    expect(Buffer.from(await readFile(output)).equals(Buffer.from(contentSlice({ size, seed: 13 }, range.start, range.length)))).toBe(true);
    expect(origin.stats("/ranged.bin").bytesServed).toBeLessThanOrEqual(4 * MiB + 1);
  });

  it("streams piece bytes back when asked for piece content", async () => {
    const origin = await startOrigin();
    const size = 5 * MiB + 7;
    const url = origin.publish("/content.bin", { size, seed: 14 });
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });

    const responses = await download(daemon.addresses.socket, { url, needPieceContent: true });

    const assembled = Buffer.alloc(size);
    for (const piece of pieces(responses)) assembled.set(piece.content!, piece.offset);
    expect(sha256(assembled)).toBe(contentSha(14, size));
    const finished = responses.at(-1)!.response!;
    expect(finished.$case === "finished" && finished.value.outputPath).toBeUndefined();
  });

  it("refuses an existing output unless told to overwrite, and a relative output path", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/small", Buffer.from("hello"));
    const dir = await tempDir();
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });
    const output = path.join(dir, "exists.out");
    await writeFile(output, "old");

    await expect(download(daemon.addresses.socket, { url, outputPath: output })).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    expect(origin.stats("/small").requests).toBe(0);
    await expect(download(daemon.addresses.socket, { url, outputPath: "relative/out" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });

    await download(daemon.addresses.socket, { url, outputPath: output, overwrite: true });
    expect(await readFile(output, "utf8")).toBe("hello");

    // A device or a FIFO would be replaced by a regular file (as root, /dev/null too): refused,
    // overwrite or not. (A FIFO stands in for /dev/null, which a regression would replace.)
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    await expect(download(daemon.addresses.socket, { url, outputPath: fifo, overwrite: true })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      reason: "output-not-regular",
    });
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it("checks the whole-file digest when one is given", async () => {
    const origin = await startOrigin();
    const body = Buffer.from("digest me");
    const url = origin.publish("/digest", body);
    const daemon = await startDaemon({ name: "solo", scheduler: DEAD_SCHEDULER });

    await download(daemon.addresses.socket, { url, digest: `sha256:${sha256(body)}`, outputPath: path.join(daemon.dir, "ok.out") });
    await expect(
      download(daemon.addresses.socket, { url, digest: `sha256:${"0".repeat(64)}`, outputPath: path.join(daemon.dir, "bad.out") }),
    ).rejects.toMatchObject({ code: "DATA_LOSS" });
  });
});
