import { describe, expect, it } from "vitest";
import { authorize, MEMBER_ACCESS, PIECE_BYTES } from "./access.js";
import { HostType } from "./gen/df/common/v1/host.js";
import { SourceType } from "./gen/df/manager/v1/manager.js";
import { identityOf, memberUri } from "./member-identity.js";
import { createRpcServer } from "./server.js";

const peer = { role: "peer", hostId: "10.0.0.1-a" } as const;
const seed = { role: "seed", hostId: "10.0.0.2-s-seed" } as const;
const schedulerMember = { role: "scheduler", hostId: "sched-1" } as const;
const denied = (text: string) => expect.objectContaining({ code: "PERMISSION_DENIED", message: expect.stringContaining(text) });

describe("identityOf", () => {
  it("reads the one spiffe://df/<role>/<host-id> URI SAN of a certificate", () => {
    expect(identityOf({ subjectaltname: `IP Address:127.0.0.1, URI:${memberUri(seed)}` } as never)).toEqual(seed);
  });

  it("names nobody without one, with two, or with an unknown role", () => {
    expect(identityOf({ subjectaltname: "IP Address:127.0.0.1" } as never)).toBeUndefined();
    expect(identityOf({ subjectaltname: `URI:${memberUri(peer)}, URI:${memberUri(seed)}` } as never)).toBeUndefined();
    expect(identityOf({ subjectaltname: "URI:spiffe://df/admin/x" } as never)).toBeUndefined();
    expect(identityOf(undefined)).toBeUndefined();
  });
});

describe("authorize with MEMBER_ACCESS", () => {
  it("has a rule for every RPC of the three network services", async () => {
    const { SchedulerService } = await import("./gen/df/scheduler/v1/scheduler.js");
    const { DfdaemonUploadService } = await import("./gen/df/daemon/upload/v1/upload.js");
    const { ManagerService } = await import("./gen/df/manager/v1/manager.js");
    for (const service of [SchedulerService, DfdaemonUploadService, ManagerService]) {
      for (const method of Object.values(service)) expect(MEMBER_ACCESS[method.path], method.path).toBeDefined();
    }
  });

  it("lets a role the table names call, and refuses other roles naming the RPC and the role", () => {
    expect(() => authorize("/df.daemon.upload.v1.DfdaemonUpload/SyncPieces", peer)).not.toThrow();
    expect(() => authorize("/df.daemon.upload.v1.DfdaemonUpload/DownloadTask", schedulerMember)).not.toThrow();
    expect(() => authorize("/df.daemon.upload.v1.DfdaemonUpload/DownloadTask", peer)).toThrow(denied("DownloadTask may not be called by a peer"));
    expect(() => authorize(PIECE_BYTES, schedulerMember)).toThrow(denied("may not be called by a scheduler"));
    expect(() => authorize("/df.made.up/Call", peer)).toThrow(denied("no remote caller"));
    expect(() => authorize("/df.daemon.upload.v1.DfdaemonUpload/SyncPieces", undefined)).toThrow(denied("names no df member"));
  });

  it("lets a host act only for itself", () => {
    const deleteHost = "/df.scheduler.v1.Scheduler/DeleteHost";
    expect(() => authorize(deleteHost, peer, { hostId: peer.hostId })).not.toThrow();
    expect(() => authorize(deleteHost, peer, { hostId: seed.hostId })).toThrow(denied("may act only for itself"));
    const announce = "/df.scheduler.v1.Scheduler/AnnounceHost";
    expect(() => authorize(announce, seed, { host: { id: seed.hostId, type: HostType.SEED } })).not.toThrow();
    expect(() => authorize(announce, peer, { host: { id: peer.hostId, type: HostType.SEED } })).toThrow(denied("names seed"));
    const keepAlive = "/df.manager.v1.Manager/KeepAlive";
    expect(() => authorize(keepAlive, seed, { sourceType: SourceType.SEED_PEER, hostname: "s", ip: "10.0.0.2" })).not.toThrow();
    expect(() => authorize(keepAlive, schedulerMember, { sourceType: SourceType.SCHEDULER, hostname: "sched-1", ip: "10.0.0.9" })).not.toThrow();
    expect(() => authorize(keepAlive, seed, { sourceType: SourceType.SCHEDULER, hostname: seed.hostId, ip: "10.0.0.2" })).toThrow(denied("names scheduler"));
  });

  it("needs mTLS on the server that enforces it", () => {
    expect(() => createRpcServer({ address: "127.0.0.1:0", access: MEMBER_ACCESS })).toThrow(expect.objectContaining({ reason: "access-without-mtls" }));
  });
});
