export declare const BIN: { scheduler: string; dfdaemon: string; dfget: string; dfcache: string };

export interface ManagedProcess {
  name: string;
  match: RegExpExecArray;
  child: import("node:child_process").ChildProcess;
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export declare function startProcess(
  name: string,
  bin: string,
  args: readonly string[],
  options: { ready: RegExp; logFile: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; uid?: number; gid?: number },
): Promise<ManagedProcess>;

export interface DfgetResult {
  code: number | null;
  stderr: string;
  stdout: Buffer;
  /** MiB per byte source from dfget's summary line: origin, peers, local. */
  sources: Partial<Record<"origin" | "seed" | "peers" | "local", number>>;
}

export declare function dfget(args: readonly string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<DfgetResult>;

export interface DfcacheResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export declare function dfcache(args: readonly string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<DfcacheResult>;

export interface ClusterDaemon {
  name: string;
  process: ManagedProcess;
  socket: string;
  upload: string;
  bytes: string;
  hostId: string;
}

export interface Cluster {
  dir: string;
  /** The first scheduler. */
  scheduler: { process: ManagedProcess; address: string };
  /** Every scheduler, the first included; each daemon is given all of them. */
  schedulers: { process: ManagedProcess; address: string }[];
  seed: ClusterDaemon | undefined;
  peers: ClusterDaemon[];
  startDaemon(name: string, seed: boolean): Promise<ClusterDaemon>;
  stop(): Promise<void>;
}

export declare function startCluster(options: {
  dir: string;
  peers?: number;
  seed?: boolean;
  /** Schedulers sharing the tasks by consistent hash of the task ID (default 1). */
  schedulers?: number;
  logLevel?: string;
  daemonArgs?: readonly string[];
  schedulerArgs?: readonly string[];
  /** Environment for every process, e.g. DF_DAEMON_UPLOAD__RATE_LIMIT. */
  env?: NodeJS.ProcessEnv;
}): Promise<Cluster>;
