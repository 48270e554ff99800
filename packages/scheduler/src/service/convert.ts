import { DfError } from "@df/interface";
import { common, sizeScopeToProto } from "@df/rpc";
import { CREDENTIAL_HEADERS } from "@df/piece";
import type { HostInfo } from "../resource/host.js";
import type { Peer } from "../resource/peer.js";
import type { PeerState } from "../resource/states.js";
import type { Task } from "../resource/task.js";
import type { DownloadRequest } from "./types.js";

/** Hosts that do not say what they can send are assumed to have 10 Gbit/s (reference §3.3). */
const UNKNOWN_TX_BANDWIDTH = 10e9;
const DEFAULT_UPLOAD_LIMIT = 200;
const DEFAULT_SEED_UPLOAD_LIMIT = 2000;

function required(value: string | undefined, field: string): string {
  if (!value) throw new DfError("INVALID_ARGUMENT", `${field} is required`, { reason: "missing-field", details: { field } });
  return value;
}

export function hostInfoFromProto(host: common.Host | undefined, intervalMs: number): HostInfo {
  if (!host) throw new DfError("INVALID_ARGUMENT", "host is required", { reason: "missing-field", details: { field: "host" } });
  const type = host.type === common.HostType.SEED ? "seed" : "normal";
  return {
    id: required(host.id, "host.id"),
    type,
    hostname: host.hostname,
    ip: required(host.ip, "host.ip"),
    port: host.port,
    downloadPort: host.downloadPort,
    ...(host.idc ? { idc: host.idc } : {}),
    ...(host.location ? { location: host.location } : {}),
    maxTxBandwidth: host.network?.maxTxBandwidth || UNKNOWN_TX_BANDWIDTH,
    txBandwidth: host.network?.txBandwidth ?? 0,
    concurrentUploadLimit: host.concurrentUploadLimit || (type === "seed" ? DEFAULT_SEED_UPLOAD_LIMIT : DEFAULT_UPLOAD_LIMIT),
    reportedConcurrentUploadCount: host.concurrentUploadCount,
    announceIntervalMs: intervalMs,
    disableShared: host.disableShared,
  };
}

export function downloadFromProto(download: common.Download | undefined): DownloadRequest {
  if (!download) {
    throw new DfError("INVALID_ARGUMENT", "register.download is required", { reason: "missing-field", details: { field: "download" } });
  }
  return {
    url: required(download.url, "download.url"),
    type: download.type === common.TaskType.PERSISTENT_CACHE ? "PERSISTENT_CACHE" : "STANDARD",
    ...(download.tag ? { tag: download.tag } : {}),
    ...(download.application ? { application: download.application } : {}),
    filteredQueryParams: download.filteredQueryParams,
    header: download.requestHeader,
    ...(download.digest ? { digest: download.digest } : {}),
    ...(download.pieceLength ? { pieceLength: download.pieceLength } : {}),
    ...(download.version !== undefined ? { version: download.version } : {}),
    needBackToSource: download.needBackToSource,
    disableBackToSource: download.disableBackToSource,
    ...(download.concurrentPieceCount ? { concurrentPieceCount: download.concurrentPieceCount } : {}),
  };
}

export function downloadToProto(download: DownloadRequest): common.Download {
  return common.Download.create({
    url: download.url,
    type: download.type === "PERSISTENT_CACHE" ? common.TaskType.PERSISTENT_CACHE : common.TaskType.STANDARD,
    ...(download.tag ? { tag: download.tag } : {}),
    ...(download.application ? { application: download.application } : {}),
    filteredQueryParams: [...download.filteredQueryParams],
    requestHeader: { ...download.header },
    ...(download.digest ? { digest: download.digest } : {}),
    ...(download.pieceLength ? { pieceLength: download.pieceLength } : {}),
    ...(download.version !== undefined ? { version: download.version } : {}),
    needBackToSource: download.needBackToSource,
    disableBackToSource: download.disableBackToSource,
  });
}

const peerStates: Record<PeerState, common.PeerState> = {
  pending: common.PeerState.PENDING,
  "received-empty": common.PeerState.RECEIVED_EMPTY,
  "received-tiny": common.PeerState.RECEIVED_TINY,
  "received-small": common.PeerState.RECEIVED_SMALL,
  "received-normal": common.PeerState.RECEIVED_NORMAL,
  running: common.PeerState.RUNNING,
  "back-to-source": common.PeerState.BACK_TO_SOURCE,
  succeeded: common.PeerState.SUCCEEDED,
  failed: common.PeerState.FAILED,
  left: common.PeerState.LEAVE,
};

const taskStates = {
  pending: common.TaskState.PENDING,
  running: common.TaskState.RUNNING,
  succeeded: common.TaskState.SUCCEEDED,
  failed: common.TaskState.FAILED,
  left: common.TaskState.LEAVE,
} as const;

/** A candidate parent as a child needs it: who, where to reach it, how it stands. */
export function peerToProto(peer: Peer): common.Peer {
  const info = peer.host.info;
  return common.Peer.create({
    id: peer.id,
    state: peerStates[peer.state],
    needBackToSource: peer.needBackToSource,
    concurrentPieceCount: peer.concurrentPieceCount,
    host: common.Host.create({
      id: info.id,
      type: info.type === "seed" ? common.HostType.SEED : common.HostType.NORMAL,
      hostname: info.hostname,
      ip: info.ip,
      port: info.port,
      downloadPort: info.downloadPort,
      idc: info.idc ?? "",
      location: info.location ?? "",
    }),
    updatedAt: new Date(peer.updatedAt),
  });
}

export function taskToProto(task: Task): common.Task {
  return common.Task.create({
    id: task.id,
    type: task.info.type === "PERSISTENT_CACHE" ? common.TaskType.PERSISTENT_CACHE : common.TaskType.STANDARD,
    url: task.info.url,
    ...(task.info.tag ? { tag: task.info.tag } : {}),
    ...(task.info.application ? { application: task.info.application } : {}),
    filteredQueryParams: [...task.info.filteredQueryParams],
    requestHeader: withoutCredentials(task.info.header),
    ...(task.contentLength !== undefined ? { contentLength: task.contentLength } : {}),
    ...(task.pieceLength !== undefined ? { pieceLength: task.pieceLength } : {}),
    ...(task.contentLength !== undefined ? { pieceCount: task.totalPieceCount } : {}),
    sizeScope: sizeScopeToProto(task.sizeScope()),
    state: taskStates[task.state],
    peerCount: task.peerCount,
    hasAvailablePeer: task.hasAvailablePeer(),
    updatedAt: new Date(task.updatedAt),
  });
}

/**
 * A task's request headers as StatTask answers them: anyone on the network may ask, so
 * the credentials its first peer fetched with are left out (the task ID already keeps
 * private content apart; the headers are for the seed peers the scheduler triggers).
 */
export function withoutCredentials(header: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) if (!CREDENTIAL_HEADERS.includes(name.toLowerCase())) kept[name] = value;
  return kept;
}
