import { describe, expect, it } from "vitest";
import { hasErrorCode } from "@df/interface";
import { privateScope, taskId } from "@df/piece";
import type { Host, HostInfo } from "../resource/host.js";
import { Resources } from "../resource/resources.js";
import { Preheater, preheatTaskId } from "./preheat.js";
import type { DownloadRequest, SeedPeerFetcher } from "./types.js";

const hostInfo = (id: string, type: "normal" | "seed"): HostInfo => ({
  id,
  type,
  hostname: `${id}-name`,
  ip: "127.0.0.1",
  port: 4000,
  downloadPort: 4001,
  maxTxBandwidth: 1e9,
  txBandwidth: 0,
  concurrentUploadLimit: 50,
  announceIntervalMs: 1000,
  disableShared: false,
});

const download = (url: string, extra: Partial<DownloadRequest> = {}): DownloadRequest => ({
  url,
  type: "STANDARD",
  filteredQueryParams: [],
  header: {},
  needBackToSource: false,
  disableBackToSource: true,
  ...extra,
});

/** Records who was asked to fetch, and with which source rule; fails the hosts named in `failing`. */
function recordingFetcher(failing: ReadonlySet<string> = new Set()) {
  const calls: { host: string; needBackToSource: boolean; disableBackToSource: boolean }[] = [];
  const fetcher: SeedPeerFetcher = {
    async fetch(seed: Host, request: DownloadRequest) {
      calls.push({ host: seed.id, needBackToSource: request.needBackToSource, disableBackToSource: request.disableBackToSource });
      if (failing.has(seed.id)) throw new Error("origin answered 404 Not Found");
      return { taskId: preheatTaskId(request), contentLength: 1234, costMs: 5 };
    },
  };
  return { fetcher, calls };
}

function fleet(seeds: string[], normals: string[] = []): Resources {
  const resources = new Resources();
  for (const id of seeds) resources.upsertHost(hostInfo(id, "seed"), 0);
  for (const id of normals) resources.upsertHost(hostInfo(id, "normal"), 0);
  return resources;
}

describe("Preheater", () => {
  it("names the task as a dfget of the same download would", () => {
    const request = download("https://example.com/a?X-Amz-Signature=1&keep=2", { tag: "t", application: "app" });
    expect(preheatTaskId(request)).toBe(taskId({ url: request.url, tag: "t", application: "app" }));
    expect(() => preheatTaskId(download("not a url"))).toThrow(/not an absolute URL/);
    expect(() => preheatTaskId(download("d7y:/some-cid"))).toThrow(/no origin/);
    expect(() => preheatTaskId(download("https://example.com/a", { pieceLength: 1000 }))).toThrow(/piece length/i);
  });

  it("names a preheat with credentials as the daemons name a download with the same ones: private to them", () => {
    const url = "https://example.com/private";
    const header = { Authorization: "Bearer ops" };
    const scoped = preheatTaskId(download(url, { header }));
    expect(scoped).toBe(taskId({ url, scope: privateScope({ headers: header }) }));
    expect(scoped).not.toBe(preheatTaskId(download(url)));
    expect(preheatTaskId(download(url, { header, digest: "sha256:ab" }))).toBe(taskId({ url, scope: "digest:sha256:ab" }));
  });

  it("sends the seed the task hashes to to the origin, and only that one for the single scope", async () => {
    const resources = fleet(["s1", "s2", "s3"], ["n1"]);
    const { fetcher, calls } = recordingFetcher();
    const result = await new Preheater(resources, fetcher).preheat(download("https://example.com/f"), "single");
    const owner = resources.seedHostFor(result.taskId)!.id;
    expect(calls).toEqual([{ host: owner, needBackToSource: true, disableBackToSource: false }]);
    expect(result).toMatchObject({ contentLength: 1234, seedPeers: [{ hostId: owner, hostname: `${owner}-name`, success: true, costMs: 5 }] });
  });

  it("fills the other seeds (or every host) peer to peer after the first", async () => {
    const resources = fleet(["s1", "s2"], ["n1"]);
    const seeds = recordingFetcher();
    await new Preheater(resources, seeds.fetcher).preheat(download("https://example.com/g"), "seeds");
    expect(seeds.calls.map((c) => c.needBackToSource)).toEqual([true, false]);
    expect(seeds.calls.map((c) => c.host).sort()).toEqual(["s1", "s2"]);

    const all = recordingFetcher();
    const result = await new Preheater(resources, all.fetcher).preheat(download("https://example.com/g"), "all");
    expect(all.calls.map((c) => c.host).sort()).toEqual(["n1", "s1", "s2"]);
    expect(result.seedPeers.every((s) => s.success)).toBe(true);
  });

  it("does not ask the others when the first seed fails, and says why", async () => {
    const resources = fleet(["s1", "s2"]);
    const owner = resources.seedHostFor(preheatTaskId(download("https://example.com/gone")))!.id;
    const { fetcher, calls } = recordingFetcher(new Set([owner]));
    const result = await new Preheater(resources, fetcher).preheat(download("https://example.com/gone"), "seeds");
    expect(calls).toHaveLength(1);
    expect(result.seedPeers.map((s) => [s.success, s.description])).toEqual([
      [false, "origin answered 404 Not Found"],
      [false, "not attempted: origin answered 404 Not Found"],
    ]);
  });

  it("refuses when no seed peer is announced, and refuses tasks with no origin", async () => {
    const { fetcher } = recordingFetcher();
    const error = await new Preheater(fleet([], ["n1"]), fetcher).preheat(download("https://example.com/h"), "single").catch((e: unknown) => e);
    expect(hasErrorCode(error, "FAILED_PRECONDITION")).toBe(true);
    expect(String(error)).toMatch(/no seed peer/);
    const cache = await new Preheater(fleet(["s1"]), fetcher).preheat(download("d7y:/cid", { type: "PERSISTENT_CACHE" }), "single").catch((e: unknown) => e);
    expect(hasErrorCode(cache, "INVALID_ARGUMENT")).toBe(true);
  });
});
