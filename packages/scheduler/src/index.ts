/**
 * @packageDocumentation
 * The df scheduler. For each task it keeps a DAG of peers; for each downloading peer it
 * samples candidate parents, filters them (itself, same host, blocked, sourceless, bad
 * nodes, cycles), scores them with the configured evaluators and hands out the best
 * few. It triggers a seed peer for a new task, sends peers back to source when
 * scheduling keeps failing (within a per-task quota), and collects garbage.
 */
export { Scheduler, BUILTIN_EVALUATORS, type SchedulerDeps } from "./scheduler.js";
export { schedulerConfigSchema, type SchedulerConfig } from "./config.js";
export { Resources } from "./resource/resources.js";
export { HashRing } from "@df/rpc";
export type { Host, HostInfo } from "./resource/host.js";
export type { Peer } from "./resource/peer.js";
export type { Task } from "./resource/task.js";
export type { DownloadRequest, SeedPeerTrigger, ScheduleResponse } from "./service/types.js";
