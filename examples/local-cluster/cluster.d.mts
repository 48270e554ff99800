export declare const BIN: { scheduler: string; dfdaemon: string; dfget: string };

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
  options: { ready: RegExp; logFile: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<ManagedProcess>;

export interface DfgetResult {
  code: number | null;
  stderr: string;
  stdout: Buffer;
  /** MiB per byte source from dfget's summary line: origin, peers, local. */
  sources: Partial<Record<"origin" | "seed" | "peers" | "local", number>>;
}

export declare function dfget(args: readonly string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<DfgetResult>;

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
  scheduler: { process: ManagedProcess; address: string };
  seed: ClusterDaemon | undefined;
  peers: ClusterDaemon[];
  startDaemon(name: string, seed: boolean): Promise<ClusterDaemon>;
  stop(): Promise<void>;
}

export declare function startCluster(options: {
  dir: string;
  peers?: number;
  seed?: boolean;
  logLevel?: string;
  daemonArgs?: readonly string[];
  schedulerArgs?: readonly string[];
  /** Environment for every process, e.g. DF_DAEMON_UPLOAD__RATE_LIMIT. */
  env?: NodeJS.ProcessEnv;
}): Promise<Cluster>;
