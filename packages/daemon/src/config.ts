import os from "node:os";
import { pluginEntrySchema, securityConfigSchema } from "@df/service-kit";
import { byteSize, duration } from "@df/interface/zod";
import { managerAddressProblem } from "@df/rpc";
import { exemptEntryProblem } from "./upload/address-cap.js";
import { z } from "zod";

const percent = z.number().min(0).max(100);

const managerAddress = z.string().superRefine((value, ctx) => {
  const problem = managerAddressProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/**
 * The dfdaemon's config, defaults included: the one place they live. Ports and timings
 * follow reference §1.2 and §3.3 (the Rust dfdaemon) unless a comment says otherwise.
 * Environment overrides use the prefix `DF_DAEMON_` (e.g. `DF_DAEMON_SEED_PEER__ENABLE=true`).
 */
export const daemonConfigSchema = z.strictObject({
  host: z
    .strictObject({
      /** Part of the host ID (`{ip}-{hostname}`): daemons sharing a machine in tests need distinct names. */
      hostname: z.string().min(1).default(() => os.hostname()),
      /** The address other peers and the scheduler reach this host at. */
      ip: z.string().min(1).default("127.0.0.1"),
      /** Data center; parents in the same IDC score higher. */
      idc: z.string().default(""),
      /** `country|province|city|zone|cluster`; a longer shared prefix scores higher. */
      location: z.string().default(""),
    })
    .prefault({}),
  seedPeer: z
    .strictObject({
      /** Run as a seed peer: announced as a SEED host, the scheduler's first stop for new tasks. */
      enable: z.boolean().default(false),
      /**
       * A seed sends its first copy of each piece to one child: while a piece goes to one
       * host, and for this long after, other hosts asking for it are told to take it from
       * a peer or another piece from here (so children hold different pieces and trade
       * them). 0 turns it off.
       */
      spreadWindow: duration("3s", { max: "10m" }),
    })
    .prefault({}),
  scheduler: z
    .strictObject({
      /** Every scheduler of the cluster; a task goes to the one its ID hashes to. With a manager: the fallback list. */
      addresses: z.array(z.string().min(1)).min(1).default(["127.0.0.1:8002"]),
      /** How often the host announces itself; the scheduler drops it after two missed intervals. */
      announceInterval: duration("30s", { min: "100ms", max: "1h" }),
      /** Longest wait for one scheduling answer (register or reschedule) before going back to source. */
      scheduleTimeout: duration("5m", { min: "100ms", max: "1h" }),
      /** Reschedules of one download before it gives up on parents and goes back to source (upstream 5). */
      maxReschedules: z.number().int().min(0).max(100).default(5),
    })
    .prefault({}),
  /**
   * The manager: with addresses, the schedulers come from the manager (ListSchedulers,
   * at start and every refreshInterval) and `scheduler.addresses` is only the fallback
   * while the manager never answered; a seed peer also registers and keeps alive.
   */
  manager: z
    .strictObject({
      /** The manager's gRPC addresses (`host:port`), tried in turn; empty: use scheduler.addresses only. */
      addresses: z.array(managerAddress).default([]),
      /** How often the scheduler list is asked for again. */
      refreshInterval: duration("30s", { min: "100ms", max: "24h" }),
      /** Ask for this scheduler cluster instead of the one the manager's searcher picks (0: search). */
      schedulerClusterId: z.number().int().min(0).default(0),
      /** Seed peers: the seed-peer cluster to register in (0: the manager's first). */
      seedPeerClusterId: z.number().int().min(0).default(0),
      /** Seed peers: between keepalive messages; match the manager's keepalive.interval. */
      keepAliveInterval: duration("5s", { min: "10ms", max: "10m" }),
    })
    .prefault({}),
  storage: z
    .strictObject({
      /** Where tasks are kept; relative paths are taken from the working directory. */
      dir: z.string().min(1).default("/var/lib/df"),
      /**
       * Write pieces downloaded from parents with direct I/O (O_DIRECT), bypassing the
       * page cache; off by itself where the file system refuses it (probed at start).
       * Only whole 4 KiB blocks qualify, so a task's last partial block, and every piece
       * of a task whose piece length is not a multiple of 4 KiB, take the page cache, as
       * do bytes from the origin (a seed serves them next, from a warm cache). Set false
       * to have every download fill the page cache.
       */
      directIO: z.boolean().default(true),
      /**
       * The most the stored tasks may take (e.g. `50Gi`), besides the disk's free space;
       * unset: the disk is the only limit. A new task that does not fit evicts idle tasks,
       * least recently used first; GC's watermarks are then percentages of it.
       */
      quota: byteSize(undefined, { min: "1Mi" }).optional(),
      gc: z
        .strictObject({
          /** How often GC runs; 0 turns the timer off. */
          interval: duration("15m", { max: "24h" }),
          /** Evict a task unused for this long. */
          taskTtl: duration("30d", { min: "1s", max: "3650d", ttl: true }),
          highWatermarkPercent: percent.default(80),
          lowWatermarkPercent: percent.default(60),
        })
        .refine((gc) => gc.lowWatermarkPercent < gc.highWatermarkPercent, {
          message: "must be below highWatermarkPercent",
          path: ["lowWatermarkPercent"],
        })
        .prefault({}),
    })
    .prefault({}),
  download: z
    .strictObject({
      /** The unix socket local clients (dfget, dfcache) talk to; dfget looks here by default. */
      socket: z.string().min(1).default("/run/df/dfdaemon.sock"),
      /**
       * A group whose members may use the socket too (a name or a numeric gid): the
       * socket is then 0660 in that group. Unset: 0600, the daemon's user only, whatever
       * the umask (anyone who can reach the socket can make the daemon read and write
       * files as its user).
       */
      socketGroup: z.union([z.string().min(1).max(64), z.number().int().min(0)]).optional(),
      /** Pieces in flight per task from parents. */
      concurrentPieceCount: z.number().int().min(1).max(64).default(8),
      /**
       * Longest a piece request may go without a byte from its parent. The window each
       * request gets is fitted to its parent's measured pace (2 s at least, 5 s for a
       * first answer) and capped by this; a request that goes silent is asked elsewhere
       * and its parent rested, not dropped. A piece that is slow but flowing is never cut.
       */
      pieceTimeout: duration("30s", { min: "100ms", max: "1h" }),
      /**
       * A download from parents with no byte from any of them for this long is
       * rescheduled (a second stall goes back to source); also bounds the wait for a
       * parent to learn the task's size.
       */
      stallTimeout: duration("30s", { min: "100ms", max: "1h" }),
      /**
       * Whether a download of a URL asks its origin first if the content changed (one
       * conditional HEAD: If-None-Match / If-Modified-Since) before it uses a copy held
       * here or joins the swarm: `always`, or `never` (a copy held here is used as it is;
       * the origin is asked only when none is). Changed content is a new task version.
       */
      revalidate: z.enum(["always", "never"]).default("always"),
      /**
       * For this long after the origin of a URL was asked, downloads of it use the
       * answer without asking again (0: ask every time, so no download returns bytes the
       * origin has replaced). At most 30 days.
       */
      freshFor: duration("0s", { min: "0s", max: "30d", ttl: true }),
      /**
       * Longest the origin may take to answer that question. Past it the origin counts as
       * not reachable: a complete copy held here is used (with a warning), else the
       * download goes on under the unversioned task ID through the swarm.
       */
      revalidateTimeout: duration("5s", { min: "100ms", max: "5m" }),
      /** Ranged requests in flight per task when fetching from an origin that honours ranges. */
      backToSourceConcurrency: z.number().int().min(1).max(64).default(4),
      /**
       * Longest the origin may send nothing to a download, across all its requests and
       * retries: the download then fails with "the origin sent nothing for …". A request
       * silent for a third of this (1–10 s) is asked again on a new connection first.
       */
      sourceStallTimeout: duration("30s", { min: "1s", max: "1h" }),
      /** Attempts per piece (or per whole-body stream) against the origin on retryable failures. */
      backToSourceRetries: z.number().int().min(0).max(10).default(2),
      /**
       * How the download bandwidth is divided among tasks: `plain` (tasks share
       * totalRateLimit first come, first served), `static` (each task held to
       * perPeerRateLimit) or `sampling` (re-divided every second by what each task used);
       * or [name, options], or a shaper plugin module or package.
       */
      trafficShaperType: pluginEntrySchema.default("plain"),
      /** The node's download bandwidth across all tasks, from parents and origins alike (e.g. `1024Mi`, `100M`). */
      totalRateLimit: byteSize("1024Mi", { min: 1, max: "1Ti" }),
      /** The fixed per-task limit of the `static` shaper. */
      perPeerRateLimit: byteSize("512Mi", { min: 1, max: "1Ti" }),
    })
    .prefault({}),
  upload: z
    .strictObject({
      /** The upload gRPC service (SyncPieces, DownloadPiece, StatTask, SyncHost, seed triggers). */
      listen: z.string().min(1).default("0.0.0.0:4000"),
      /** The piece-byte transport; announced as the host's download port. */
      bytesListen: z.string().min(1).default("0.0.0.0:4005"),
      /** Uploads served at once; announced so the scheduler can weigh this host's load. With a manager, its cluster's load limit wins. */
      concurrencyLimit: z.number().int().min(1).max(100_000).default(200),
      /**
       * Uploads of one task served at once; more wait (upload.concurrencyLimit's queue
       * timeout) and are then refused as busy. A few at a time at full speed get each
       * piece into the swarm sooner than all at once at a fraction of it. 0: no limit.
       */
      concurrencyPerTask: z.number().int().min(0).max(100_000).default(4),
      /**
       * How long a child's piece announcements (SyncPieces) gather new pieces before they
       * go out in one message; pieces already held always go in one. Longer sends fewer
       * messages and tells children later. 0: only what is ready; at most 10 s.
       */
      announceWindow: duration("0ms", { max: "10s", maxReason: "children would learn of pieces too late" }),
      /** Upload bandwidth cap in bytes per second (e.g. `100Mi`); unset means unlimited. */
      rateLimit: byteSize(undefined, { min: 1, max: "1Ti" }).optional(),
      /**
       * Serve a piece to children while it still arrives from a parent (cut-through),
       * instead of once it is stored: a piece then crosses a chain of peers in about the
       * time of one hop. Measured on 100 Mbit/s links: 16 MiB pieces 20 % sooner, 4 MiB
       * within noise. Off: pieces are announced and served once stored.
       */
      cutThrough: z.boolean().default(true),
      /**
       * The piece server closes a connection that has not sent a whole request within
       * this long of opening, or of the first byte of its next one (slowloris), with 408.
       * A child sends its small GET in one write as soon as it connects.
       */
      headerTimeout: duration("10s", { min: "10ms", max: "10m" }),
      /**
       * A kept-alive piece connection with no request is closed after this long. Keep it
       * above 30 s: children close their idle connections then, so the server does not
       * close one under a request.
       */
      idleTimeout: duration("65s", { min: "10ms", max: "1h" }),
      /**
       * An upload whose reader takes no bytes at all for this long is cut (one to two of
       * these after its last byte) and its slot freed at once. About no progress, not
       * slowness: any byte the kernel takes counts. Measured on a 100 Mbit/s link shared
       * by 200 honest readers of 4 MiB pieces, the longest a reader took nothing was 24 s
       * (16 readers: 3 s). Children give up on a silent parent after download.pieceTimeout
       * (30 s), so the server never cuts one that would still wait.
       */
      writeTimeout: duration("30s", { min: "10ms", max: "1h" }),
      /**
       * Open piece connections per remote address; more are closed at once. A child opens
       * at most 16 to one parent (8 for one task): 64 leaves room for a few hosts behind
       * one address. 0: no cap.
       */
      connectionsPerAddress: z.number().int().min(0).max(100_000).default(64),
      /**
       * Addresses and subnets (`10.1.0.0/16`, `::1`) that connectionsPerAddress does not
       * count, such as a NAT gateway. Loopback by default: every daemon of a one-machine
       * cluster connects from it, and no remote host can.
       */
      connectionsPerAddressExempt: z
        .array(
          z.string().superRefine((value, ctx) => {
            const problem = exemptEntryProblem(value);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
          }),
        )
        .default(["127.0.0.0/8", "::1"]),
    })
    .prefault({}),
  /** Source plugins for back-to-source, chosen by URL scheme: names, [name, options] or modules. */
  sources: z.array(pluginEntrySchema).min(1).default(["http"]),
  /** mTLS for the upload gRPC service, the piece-byte transport (HTTPS) and every call to schedulers, managers and parents. */
  security: securityConfigSchema,
  /** Prometheus `/metrics`; empty to disable. */
  metricsListen: z.string().default("127.0.0.1:4002"),
  log: z
    .strictObject({ level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info") })
    .prefault({}),
});

export type DaemonConfig = z.output<typeof daemonConfigSchema>;
/** Config as written (durations and sizes as strings, defaults optional). */
export type DaemonConfigInput = z.input<typeof daemonConfigSchema>;

/** Parses a config object (no file, no env), e.g. in tests: `daemonConfig({ storage: { dir } })`. */
export function daemonConfig(input: DaemonConfigInput = {}): DaemonConfig {
  return daemonConfigSchema.parse(input);
}
