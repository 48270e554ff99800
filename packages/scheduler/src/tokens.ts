import type { InjectionToken } from "tsyringe";
import type { SchedulerConfig } from "./config.js";
import type { ParentSelectionLimits } from "./scheduling/options.js";
import type { AnnouncementEvents, AnnouncementOptions } from "./service/announcement-options.js";
import type { SeedPeerTrigger } from "./service/types.js";

/** Tokens for the scheduler's own interfaces; its classes are their own tokens. */
export const SchedulerTokens = {
  Config: Symbol("df.scheduler.Config") as InjectionToken<SchedulerConfig>,
  SeedPeerTrigger: Symbol("df.scheduler.SeedPeerTrigger") as InjectionToken<SeedPeerTrigger>,
  AnnouncementOptions: Symbol("df.scheduler.AnnouncementOptions") as InjectionToken<AnnouncementOptions>,
  AnnouncementEvents: Symbol("df.scheduler.AnnouncementEvents") as InjectionToken<AnnouncementEvents>,
  SelectionLimits: Symbol("df.scheduler.SelectionLimits") as InjectionToken<() => ParentSelectionLimits>,
  Random: Symbol("df.scheduler.Random") as InjectionToken<() => number>,
} as const;
