import os from "node:os";
import { isIP } from "node:net";
import { pluginEntrySchema, securityConfigSchema } from "@df/service-kit";
import { duration } from "@df/interface/zod";
import { managerAddressProblem, parseListen } from "@df/rpc";
import { callerEntryProblem } from "./service/preheat-gate.js";
import { z } from "zod";

const managerAddress = z.string().superRefine((value, ctx) => {
  const problem = managerAddressProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/**
 * What one scheduler takes from its callers, so that a hostile or broken one cannot
 * exhaust it. A refusal names the key to raise; each is counted in
 * df_scheduler_limit_rejections_total{limit="<key>"}.
 */
export const limitsSchema = z.strictObject({
  /** Hosts known at once (announced, or seed peers listed by the manager). */
  maxHosts: z.number().int().min(1).default(100_000),
  /** Tasks known at once. */
  maxTasks: z.number().int().min(1).default(100_000),
  /** Peers known at once, over all tasks. */
  maxPeers: z.number().int().min(1).default(1_000_000),
  /** Peers of one task. */
  maxPeersPerTask: z.number().int().min(1).default(20_000),
  /** Largest task, in bytes (1 TiB). */
  maxTaskSize: z.number().int().min(0).default(2 ** 40),
  /** Most pieces of one task: 1 TiB at the smallest piece length the daemons use (4 MiB). */
  maxPieceCount: z.number().int().min(1).default(262_144),
  /** Longest ID, hostname, IP, IDC, location, tag, application, digest, query parameter key or header name (bytes, UTF-8). */
  maxStringLength: z.number().int().min(64).default(1024),
  /** Longest URL (bytes). */
  maxUrlLength: z.number().int().min(256).default(8192),
  /** Request headers of one download, names and values summed (bytes). */
  maxHeaderBytes: z.number().int().min(1024).default(16_384),
  /** Most entries of a list or map field (request headers, filtered query parameters). */
  maxListLength: z.number().int().min(1).default(256),
  /**
   * Seed peers that announce themselves as such without the manager listing them
   * (ListSeedPeers). Seeds the manager lists do not count; with no manager every
   * seed is self-declared.
   */
  maxSelfDeclaredSeeds: z.number().int().min(0).default(64),
  /**
   * Announces (AnnounceHost, AnnounceTask, and an AnnouncePeer register or reschedule)
   * each caller address may make per second, as a token bucket: a sustained rate and
   * the burst after a quiet spell. IPv6 callers count per /64.
   */
  announceRate: z.number().positive().default(200),
  announceBurst: z.number().int().min(1).default(400),
  /** Caller addresses whose announce buckets are kept at once; idle ones are dropped first. */
  maxCallers: z.number().int().min(1).default(100_000),
});

/**
 * The scheduler's config, defaults included: the one place they live. Timings follow
 * reference §4 (defaults of the upstream scheduler) unless a comment says otherwise.
 */
export const schedulerConfigSchema = z.strictObject({
  /** Where the gRPC service listens: `host:port`, `[::1]:port` or `unix:/path`. */
  listen: z.string().min(1).default("0.0.0.0:8002"),
  /** Prometheus `/metrics`: `host:port` or `[v6]:port`; empty to disable. */
  metricsListen: z
    .string()
    .superRefine((value, ctx) => {
      if (value === "") return;
      try {
        parseListen(value, "metricsListen");
      } catch {
        ctx.addIssue({ code: "custom", message: "must be host:port (e.g. 127.0.0.1:8000), or empty to serve no metrics" });
      }
    })
    .default("127.0.0.1:8000"),
  log: z.strictObject({ level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info") }).prefault({}),
  /** mTLS for the gRPC service and for calls to seed peers and managers. */
  security: securityConfigSchema,
  /** Who this scheduler is to the manager (and so to the peers the manager sends to it). */
  host: z
    .strictObject({
      /** The manager keeps one row per hostname and IP: schedulers sharing a machine need distinct names. */
      hostname: z.string().min(1).default(() => os.hostname()),
      /**
       * The IP peers reach this scheduler at, registered with the manager. Unset: the
       * listen host when it is a specific address, else this machine's first non-internal
       * IPv4 address (127.0.0.1 when it has none).
       */
      advertiseIp: z
        .string()
        .refine((value) => isIP(value) !== 0, { message: "not an IP address (give the IPv4 or IPv6 address peers reach this scheduler at)" })
        .optional(),
      /** Data center and `country|province|city|…` location, registered with the manager. */
      idc: z.string().default(""),
      location: z.string().default(""),
    })
    .prefault({}),
  /**
   * The manager: with addresses, the scheduler registers (UpdateScheduler), keeps alive,
   * and applies its cluster's dynamic config (GetSchedulerClusterConfig) without a
   * restart; the `scheduling` values here hold until the manager answers, and for
   * whatever the manager leaves unset.
   */
  manager: z
    .strictObject({
      /** The manager's gRPC addresses (`host:port`), tried in turn; empty: no manager. */
      addresses: z.array(managerAddress).default([]),
      /** The scheduler cluster this scheduler belongs to. */
      schedulerClusterId: z.number().int().min(1).default(1),
      /** Between keepalive messages; match the manager's keepalive.interval (it drops a member silent for 1.5 × its interval). */
      keepAliveInterval: duration("5s", { min: "10ms", max: "10m" }),
      /** How often the dynamic config is pulled besides whenever the manager announces a new revision (upstream 1 min). */
      configRefreshInterval: duration("1m", { min: "10ms", max: "24h" }),
      /** What this scheduler offers, registered with the manager (only `schedule` schedulers are handed to peers). */
      features: z.array(z.string().min(1)).default(["schedule", "preheat"]),
    })
    .prefault({}),
  preheat: z
    .strictObject({
      /**
       * Who may call PreheatTask besides loopback and the manager (the IPs manager.addresses
       * resolve to): IPs or CIDR blocks, e.g. the manager's source address behind NAT.
       */
      allowedCallers: z
        .array(
          z.string().superRefine((value, ctx) => {
            const problem = callerEntryProblem(value);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
          }),
        )
        .default([]),
    })
    .prefault({}),
  scheduling: z
    .strictObject({
      /** Evaluators, in order: filters (sigma) and scorers (score); names, [name, options] or modules. */
      evaluators: z.array(pluginEntrySchema).min(1).default(["sigma", "score"]),
      candidateParentLimit: z.number().int().min(1).max(20).default(3),
      filterParentLimit: z.number().int().min(1).max(1000).default(15),
      retryLimit: z.number().int().min(1).max(100).default(5),
      retryBackToSourceLimit: z.number().int().min(0).max(100).default(4),
      retryInterval: duration("500ms", { max: "10m" }),
      /**
       * Lets a task's peers be each other's parents (A → B and B → A), so peers trade the
       * pieces they hold like a swarm instead of all drawing from the seed; safe because
       * pieces are exchanged one at a time, only once the parent holds them. false keeps
       * the parent graph acyclic (a peer's descendants are never its parents).
       */
      allowCycles: z.boolean().default(true),
      /** Peers of one task that may fetch from the source at once. */
      backToSourceLimit: z.number().int().min(0).default(200),
      /** Base of the per-host register delay (0 disables it). */
      registerDelayBase: duration("30ms", { max: "10s" }),
      /** A seed peer that failed a task is not asked again for this long. */
      seedPeerFailedTimeout: duration("30m", { max: "7d", ttl: true }),
      /**
       * Distinct hosts that must get wrong bytes from a parent before it is blocked for
       * the whole task; one report blocks it for that child only.
       */
      badContentReporters: z.number().int().min(1).max(100).default(2),
      /** How long the scheduler waits for a seed peer to accept a trigger. */
      seedPeerTriggerTimeout: duration("10s", { min: "10ms", max: "1h" }),
    })
    .prefault({}),
  limits: limitsSchema.prefault({}),
  gc: z
    .strictObject({
      interval: duration("10s", { min: "10ms", max: "1h" }),
      peerTtl: duration("24h", { min: "1s", max: "365d", ttl: true }),
      pieceDownloadTimeout: duration("30m", { min: "1s", max: "7d", ttl: true }),
      hostMissedAnnounces: z.number().int().min(1).default(2),
      defaultAnnounceInterval: duration("5m", { min: "1s", max: "24h" }),
    })
    .prefault({}),
});

export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;
export type SchedulerLimits = z.output<typeof limitsSchema>;
