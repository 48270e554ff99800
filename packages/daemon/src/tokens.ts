import type { InjectionToken } from "tsyringe";
import type { Storage } from "@df/storage";
import type { Metrics } from "@df/telemetry";
import type { DownloadBandwidth } from "./bandwidth.js";
import type { DaemonConfig } from "./config.js";
import type { PieceDownloader } from "./transfer/types.js";

/**
 * Tokens for the daemon's own interfaces; its classes (Storage, TaskConductor,
 * DaemonHost, …) are their own tokens. Every injected constructor parameter names its
 * token with `@inject`, so nothing depends on emitted type metadata.
 */
export const DaemonTokens = {
  Config: Symbol("df.daemon.Config") as InjectionToken<DaemonConfig>,
  PieceDownloader: Symbol("df.daemon.PieceDownloader") as InjectionToken<PieceDownloader>,
  /** The download bandwidth: the traffic shaper and the total limit. */
  Bandwidth: Symbol("df.daemon.Bandwidth") as InjectionToken<DownloadBandwidth>,
  Metrics: Symbol("df.daemon.Metrics") as InjectionToken<Metrics>,
  /** The open store (Storage has a private constructor, so it cannot be its own token). */
  Storage: Symbol("df.daemon.Storage") as InjectionToken<Storage>,
} as const;
