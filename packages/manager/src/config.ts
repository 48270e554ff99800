import { byteSize, duration } from "@df/interface/zod";
import { securityConfigSchema } from "@df/service-kit";
import { z } from "zod";

/** Passwords nobody may keep for the root user. */
export const KNOWN_DEFAULT_PASSWORDS: readonly string[] = ["dragonfly", "root", "password", "admin", "changeme", "123456", "12345678", "df", "manager"];

const searcherEntry = z.union([z.string().min(1), z.tuple([z.string().min(1), z.record(z.string(), z.unknown())]), z.tuple([z.string().min(1)])]);

/**
 * The manager's config, defaults included: the one place they live. Durations take
 * `5s`, `1m`, … or milliseconds.
 */
export const managerConfigSchema = z.strictObject({
  /** REST API (and /metrics, /healthy): `host:port`; port 0 picks a free one. */
  restListen: z.string().min(1).default("0.0.0.0:8080"),
  /** The fleet's gRPC service (Manager in df.manager.v1): `host:port`; port 0 picks one. */
  grpcListen: z.string().min(1).default("0.0.0.0:65003"),
  /** A separate Prometheus `/metrics` listener; empty: /metrics is on the REST port only. */
  metricsListen: z.string().default(""),
  /** The manager's own files: the embedded database lives in `<dataDir>/db` by default. */
  dataDir: z.string().min(1).default("/var/lib/df/manager"),
  log: z.strictObject({ level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info") }).prefault({}),
  /** mTLS for the fleet gRPC service and for calls to schedulers (preheat); the REST API is not affected. */
  security: securityConfigSchema,
  database: z
    .strictObject({
      /**
       * `pglite:` in memory, `pglite://<dir>` on disk, `postgres://user:pass@host:port/db`.
       * Unset: PGlite in `<dataDir>/db`.
       */
      url: z.string().min(1).optional(),
      /** Attempts to reach an unavailable database at start, with doubling backoff. */
      connectAttempts: z.number().int().min(1).max(100).default(5),
      retryDelay: duration("500ms", { max: "1m" }),
      /** PostgreSQL connections per manager. */
      poolSize: z.number().int().min(1).max(200).default(10),
    })
    .prefault({}),
  keepalive: z
    .strictObject({
      /** How often members are expected to send (schedulers send every 5 s). */
      interval: duration("5s", { min: "10ms", max: "10m" }),
      /**
       * Silence after which a member is inactive; unset: 1.5 × interval, so a member that
       * stops is detected within 2 × interval.
       */
      timeout: duration(undefined, { min: "10ms", max: "1h" }).optional(),
    })
    .prefault({}),
  cache: z
    .strictObject({
      /** How long a cluster's active schedulers and the cluster list are reused for ListSchedulers. */
      ttl: duration("2s", { max: "10m" }),
    })
    .prefault({}),
  /** Which scheduler cluster a peer gets: `default`, `[name, options]` or a module path. */
  searcher: searcherEntry.default("default"),
  auth: z
    .strictObject({
      /** The initial root user's password (or env DF_MANAGER_ROOT_PASSWORD); required, not a known default. */
      rootPassword: z.string().optional(),
      /** Lifetime of a sign-in session token. */
      sessionTtl: duration("24h", { min: "1m", max: "365d", ttl: true }),
      /** Longest lifetime a personal access token may ask for. */
      maxTokenTtl: duration("365d", { min: "1h", max: "3650d", ttl: true }),
      /**
       * Failed sign-ins counted per user name and per client address (this manager
       * process's own count): `maxFailuresPerUser` (or `maxFailuresPerAddress`) within
       * `window` lock that user (or address) out for `lockout`, answered 429.
       */
      signin: z
        .strictObject({
          maxFailuresPerUser: z.number().int().min(1).max(1000).default(5),
          // Higher than per user: many users may sign in from behind one NAT or proxy.
          maxFailuresPerAddress: z.number().int().min(1).max(10_000).default(20),
          window: duration("15m", { min: "1s", max: "7d", ttl: true }),
          lockout: duration("15m", { max: "7d", ttl: true }),
        })
        .prefault({}),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      preheat: z
        .strictObject({
          /** How long one URL's preheat may take on one cluster (unless the job's args say `timeoutMs`). */
          timeout: duration("30m", { min: "1s", max: "24h" }),
          /** URLs of one job preheated at once. */
          concurrency: z.number().int().min(1).max(64).default(4),
        })
        .prefault({}),
    })
    .prefault({}),
  rest: z
    .strictObject({
      /** Largest request body accepted; bigger ones get 413. */
      bodyLimit: byteSize("1MiB", { min: "1Ki", max: "1Gi" }),
      /** Deepest nesting of arrays and objects in a JSON body; deeper ones get 400. */
      maxJsonDepth: z.number().int().min(4).max(1000).default(32),
      /** Largest `per_page`. */
      maxPerPage: z.number().int().min(1).max(10_000).default(1000),
    })
    .prefault({}),
});

export type ManagerConfig = z.output<typeof managerConfigSchema>;
export type ManagerConfigInput = z.input<typeof managerConfigSchema>;
