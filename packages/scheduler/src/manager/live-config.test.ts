import { describe, expect, it } from "vitest";
import { manager } from "@df/rpc";
import { schedulerConfigSchema } from "../config.js";
import { Host } from "../resource/host.js";
import { Peer } from "../resource/peer.js";
import { Task } from "../resource/task.js";
import { ParentSelector } from "../scheduling/parent-selector.js";
import { DEFAULT_ANNOUNCEMENT_OPTIONS } from "../service/announcements.js";
import { LiveScheduling } from "./live-config.js";

function live(scheduling: Record<string, unknown> = {}): LiveScheduling {
  const options = { ...DEFAULT_ANNOUNCEMENT_OPTIONS, retry: { ...DEFAULT_ANNOUNCEMENT_OPTIONS.retry } };
  return new LiveScheduling(schedulerConfigSchema.parse({ scheduling }).scheduling, options);
}

const remote = (config: Partial<manager.SchedulerClusterConfig>) => manager.SchedulerClusterConfig.create(config);

describe("LiveScheduling", () => {
  it("starts from the local config and takes the manager's values, falling back to local ones the manager leaves unset", () => {
    const l = live({ candidateParentLimit: 4, retryInterval: "300ms" });
    expect(l.limits).toEqual({ candidateParentLimit: 4, filterParentLimit: 15 });
    expect(l.options.retry.retryIntervalMs).toBe(300);

    const applied = l.apply(remote({ candidateParentLimit: 9, filterParentLimit: 100, retryLimit: 7, backToSourceLimit: 12 }));
    expect(applied.changed).toEqual({
      candidateParentLimit: { from: 4, to: 9 },
      filterParentLimit: { from: 15, to: 100 },
      retryLimit: { from: 5, to: 7 },
      backToSourceLimit: { from: 200, to: 12 },
    });
    expect(l.limits).toEqual({ candidateParentLimit: 9, filterParentLimit: 100 });
    expect(l.options).toMatchObject({ backToSourceLimit: 12, retry: { retryLimit: 7, retryIntervalMs: 300 } });

    // The manager unsets a value (0 on the wire): the local one is back.
    expect(l.apply(remote({ filterParentLimit: 100 })).changed).toMatchObject({ candidateParentLimit: { from: 9, to: 4 } });
    expect(l.apply(remote({ filterParentLimit: 100 })).changed).toEqual({});
  });

  it("refuses values out of range and keeps the current ones", () => {
    const l = live();
    const applied = l.apply(remote({ candidateParentLimit: 21, filterParentLimit: 30 }));
    expect(applied.rejected).toEqual({ candidateParentLimit: 21 });
    expect(l.limits).toEqual({ candidateParentLimit: 3, filterParentLimit: 30 });
  });

  it("a new candidate-parent limit applies from the next scheduling round", () => {
    const l = live();
    const task = new Task<Peer>("t", { url: "http://o/f", type: "STANDARD", filteredQueryParams: [], header: {}, backToSourceLimit: 200 }, 0);
    task.setContent(4 * 2 ** 20, 2 ** 20, 4);
    const peerOn = (n: number): Peer => {
      const host = new Host(
        { id: `h${n}`, type: "normal", hostname: `h${n}`, ip: "127.0.0.1", port: n, downloadPort: n, maxTxBandwidth: 1e10, txBandwidth: 0, concurrentUploadLimit: 200, announceIntervalMs: 30_000, disableShared: false },
        0,
      );
      const peer = new Peer(`p${n}`, task, host, { now: 0 });
      task.addPeer(peer);
      peer.fsm.fire("register-normal");
      if (n > 0) peer.fsm.fire("download-succeeded");
      return peer;
    };
    const child = peerOn(0);
    for (let n = 1; n <= 6; n++) peerOn(n);
    const selector = new ParentSelector([], () => l.limits);
    expect(selector.select(child).parents).toHaveLength(3);
    l.apply(remote({ candidateParentLimit: 5 }));
    expect(selector.select(child).parents).toHaveLength(5);
    l.apply(remote({ candidateParentLimit: 1 }));
    expect(selector.select(child).parents).toHaveLength(1);
  });
});
