import path from "node:path";
import { describe, expect, it } from "vitest";
import { generateContent } from "@df/compliance-tests";
import { DEAD_SCHEDULER, download, pieces, sha256, sha256File, startDaemon, startOrigin, waitFor } from "../test-support/cluster.js";

const MiB = 1024 * 1024;

describe("a daemon restarted mid-download", () => {
  it("resumes from the stored pieces without fetching them again", async () => {
    const origin = await startOrigin();
    const size = 20 * MiB;
    // Slow answers and one request at a time: the download is still running when stopped.
    const url = origin.publish("/resume.bin", { size, seed: 21 }, { delayMs: 250 });
    const config = { download: { backToSourceConcurrency: 1 } };
    const first = await startDaemon({ name: "restart", scheduler: DEAD_SCHEDULER, config, manualStop: true });
    const { dir } = first;

    const interrupted = download(first.addresses.socket, { url, outputPath: path.join(dir, "never.out") }).catch((error: unknown) => error);
    const taskPieces = (): number => first.storage.listTasks()[0]?.info.finishedPieceCount ?? 0;
    await waitFor(() => taskPieces() >= 2, 15_000, "two stored pieces");
    await first.stop();
    expect(await interrupted).toMatchObject({ code: "UNAVAILABLE" });

    const second = await startDaemon({ name: "restart", scheduler: DEAD_SCHEDULER, config, dir });
    const stored = second.storage.listTasks()[0]!;
    const kept = stored.info.finishedPieceCount;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(5);
    origin.resetStats();
    origin.publish("/resume.bin", { size, seed: 21 });

    const output = path.join(dir, "resumed.out");
    const responses = await download(second.addresses.socket, { url, outputPath: output });

    expect(await sha256File(output)).toBe(sha256(Buffer.from(generateContent(21, 0, size))));
    expect(pieces(responses)).toHaveLength(5 - kept);
    const started = responses[0]!.response!;
    expect(started.$case === "started" && started.value.pieces).toHaveLength(kept);
    // Only the missing pieces crossed again (plus the one-byte range probe).
    expect(origin.stats("/resume.bin").bytesServed).toBeLessThanOrEqual((5 - kept) * 4 * MiB + 1);
  });
});
