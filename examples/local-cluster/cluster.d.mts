export declare const BIN: { manager: string; scheduler: string; dfdaemon: string; dfget: string; dfcache: string };

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
  /** Its JSON log lines (stderr). */
  logFile: string;
}

export interface ClusterScheduler {
  process: ManagedProcess;
  address: string;
  /** Its Prometheus endpoint (`<url>/metrics`), enabled in clusters with a manager. */
  metricsUrl?: string;
  /** Its JSON log lines (stderr). */
  logFile: string;
}

export interface ClusterManager {
  process: ManagedProcess;
  /** `http://127.0.0.1:<port>`; the API is under /api/v1. */
  restUrl: string;
  /** The fleet gRPC address, `127.0.0.1:<port>`. */
  grpc: string;
  /** The root user's password, made up for this run. */
  rootPassword: string;
  /** Calls the REST API as root (signs in on first use); JSON in and out. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- REST answers are arbitrary JSON
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export declare function startManager(options: {
  dir: string;
  logLevel?: string;
  env?: NodeJS.ProcessEnv;
  args?: readonly string[];
  /** The manager's `security.tls` files: mTLS on its fleet gRPC service. */
  tls?: import("./certs.mjs").TlsFiles;
}): Promise<ClusterManager>;

export interface Cluster {
  dir: string;
  /** The CA and members' certificates, when the cluster was started with `tls: true` (in `<dir>/tls`). */
  certs?: import("./certs.mjs").MemberCerts;
  /** The manager, when the cluster was started with `manager: true`. */
  manager: ClusterManager | undefined;
  /** The first scheduler. */
  scheduler: ClusterScheduler;
  /** Every scheduler, the first included; each daemon is given all of them (with a manager: as its fallback list). */
  schedulers: ClusterScheduler[];
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
  /**
   * Start a df-manager first (embedded database in `<dir>/manager`): schedulers and the
   * seed peer register with it, daemons get their schedulers from it. Default false.
   */
  manager?: boolean;
  logLevel?: string;
  daemonArgs?: readonly string[];
  schedulerArgs?: readonly string[];
  /** Environment for every process, e.g. DF_DAEMON_UPLOAD__RATE_LIMIT. */
  env?: NodeJS.ProcessEnv;
  /** Every member with mTLS: certificates made with openssl in `<dir>/tls`. Default false. */
  tls?: boolean;
}): Promise<Cluster>;
