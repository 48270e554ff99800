import type { Clock, Logger } from "@df/interface";
import type { ManagerMembership, MemberTls } from "@df/rpc";
import type { Metrics } from "@df/telemetry";
import type { DownloadBandwidth } from "../bandwidth.js";
import type { DaemonConfig } from "../config.js";
import type { DaemonHost } from "../host.js";
import type { SchemeSourceRegistry } from "../source/registry.js";
import type { PieceDownloader } from "../transfer/types.js";

/** What the daemon's modules are built from: known before anything starts. */
export interface DaemonContext {
  config: DaemonConfig;
  logger: Logger;
  host: DaemonHost;
  metrics: Metrics;
  sources: SchemeSourceRegistry;
  bandwidth: DownloadBandwidth;
  /** mTLS material from `security.tls`; undefined: plaintext. */
  tls?: MemberTls;
  /** A piece downloader of the caller's own instead of the peer transfer. */
  pieceDownloader?: PieceDownloader;
  /** Instead of the system clock (tests of download.freshFor). */
  clock?: Clock;
  /** What the modules learn while starting, for the daemon's getters and its ready line. */
  started: StartedParts;
}

/** Filled in by the modules as they start. */
export interface StartedParts {
  socket?: string;
  upload?: string;
  bytesPort?: number;
  /** The byte server's address as peers reach it (the upload service's host, the byte server's port). */
  bytes?: string;
  metricsUrl?: string;
  membership?: ManagerMembership;
}
