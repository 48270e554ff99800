import { noopLogger, systemClock } from "@df/interface";
import { common, scheduler } from "@df/rpc";
import { describe, expect, it } from "vitest";
import type { HostInfo } from "../resource/host.js";
import { Resources } from "../resource/resources.js";
import { ParentSelector } from "../scheduling/parent-selector.js";
import { Announcements, DEFAULT_ANNOUNCEMENT_OPTIONS } from "./announcements.js";
import { schedulerHandlers } from "./handlers.js";

const host = (id: string): HostInfo => ({
  id,
  type: "normal",
  hostname: id,
  ip: "127.0.0.1",
  port: 4000,
  downloadPort: 4001,
  maxTxBandwidth: 1e10,
  txBandwidth: 0,
  concurrentUploadLimit: 100,
  announceIntervalMs: 30_000,
  disableShared: false,
});

const download = { url: "http://origin/file", type: "STANDARD" as const, filteredQueryParams: [], header: {}, needBackToSource: false, disableBackToSource: false };

/** A request stream the test writes to one message at a time. */
function requestQueue() {
  const waiting: ((request: scheduler.AnnouncePeerRequest) => void)[] = [];
  const queued: scheduler.AnnouncePeerRequest[] = [];
  return {
    send(request: NonNullable<scheduler.AnnouncePeerRequest["request"]>) {
      const message = scheduler.AnnouncePeerRequest.create({ hostId: "h2", taskId: "t", peerId: "p2", request });
      const resolve = waiting.shift();
      if (resolve) resolve(message);
      else queued.push(message);
    },
    async *stream(): AsyncGenerator<scheduler.AnnouncePeerRequest> {
      for (;;) yield queued.shift() ?? (await new Promise<scheduler.AnnouncePeerRequest>((resolve) => waiting.push(resolve)));
    },
  };
}

function parentIds(result: IteratorResult<scheduler.AnnouncePeerResponse, unknown>): string[] | string | undefined {
  if (result.done) return "stream ended";
  const body = result.value.response;
  return body?.$case === "normalTask" ? body.value.candidateParents.map((p) => p.id).sort() : body?.$case;
}

describe("AnnouncePeer reschedule", () => {
  it("answers more_parents with only the new parents, and a plain reschedule as before", async () => {
    const resources = new Resources({ allowCycles: true });
    const selector = new ParentSelector([], () => ({ candidateParentLimit: 3, filterParentLimit: 15 }));
    const options = { ...DEFAULT_ANNOUNCEMENT_OPTIONS, retry: { retryLimit: 5, retryBackToSourceLimit: 2, retryIntervalMs: 1 }, registerDelayBaseMs: 0 };
    const announcements = new Announcements(resources, selector, undefined, systemClock, options, noopLogger, {});
    for (const id of ["h1", "h2", "h3"]) resources.upsertHost(host(id), Date.now());
    await announcements.register("h1", "t", "p1", { ...download, needBackToSource: true });
    announcements.backToSourceStarted("p1");

    const requests = requestQueue();
    const responses = schedulerHandlers(resources, announcements, systemClock).announcePeer(requests.stream(), {
      signal: new AbortController().signal,
    } as never)[Symbol.asyncIterator]();
    requests.send({ $case: "register", value: { download: common.Download.create({ url: download.url }) } });
    expect(parentIds(await responses.next())).toEqual(["p1"]);

    await announcements.register("h3", "t", "p3", download);
    const listed = [common.Peer.create({ id: "p1" })];
    requests.send({ $case: "reschedule", value: { candidateParents: listed, description: "more", moreParents: true } });
    expect(parentIds(await responses.next())).toEqual(["p3"]);
    expect(resources.tasks.get("t")!.dag.parents("p2").sort()).toEqual(["p1", "p3"]);
    expect(resources.peers.get("p2")!.blockedParents.has("p1")).toBe(false);

    requests.send({ $case: "reschedule", value: { candidateParents: [], description: "more", moreParents: true } });
    expect(parentIds(await responses.next())).toEqual([]);

    // Without the flag: every current parent is blocked, so the peer ends up at the source.
    requests.send({ $case: "reschedule", value: { candidateParents: [], description: "used up", moreParents: false } });
    expect(parentIds(await responses.next())).toBe("needBackToSource");
    expect([...resources.peers.get("p2")!.blockedParents].sort()).toEqual(["p1", "p2", "p3"]);
    await responses.return?.(undefined);
  });
});
