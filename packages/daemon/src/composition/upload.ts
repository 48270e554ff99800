import type { InjectionToken } from "tsyringe";
import { DfError } from "@df/interface";
import { createRpcServer, daemonUpload, formatAddress, MEMBER_ACCESS, type RpcServer } from "@df/rpc";
import type { ServiceModule } from "@df/service-kit";
import { TaskConductor } from "../conductor/conductor.js";
import { DaemonMetrics } from "../conductor/metrics.js";
import { triggerHandlers } from "../download-service/upload-handlers.js";
import { HostAnnouncer } from "../scheduler-link/announcer.js";
import { DaemonTokens } from "../tokens.js";
import { createUploadHandlers, PieceByteServer, PieceSpread, TaskFailures, TaskUploadGate, UploadLimiter } from "../upload/index.js";
import type { DaemonContext } from "./context.js";

/** What serving pieces shares between the byte server and the upload service. */
interface UploadParts {
  limiter: UploadLimiter;
  failures: TaskFailures;
  spread?: PieceSpread;
  taskGate?: TaskUploadGate;
}
const UploadParts: InjectionToken<UploadParts> = Symbol("df.daemon.UploadParts");

/** Upload slots, failed-task memory, a seed's piece spreading and the per-task gate. */
export function uploadPartsModule(ctx: DaemonContext): ServiceModule {
  const { config } = ctx;
  const limiter = new UploadLimiter({ concurrency: config.upload.concurrencyLimit, ...(config.upload.rateLimit ? { rateLimit: config.upload.rateLimit } : {}) });
  const failures = new TaskFailures();
  const spread = config.seedPeer.enable && config.seedPeer.spreadWindow > 0 ? new PieceSpread(config.seedPeer.spreadWindow) : undefined;
  const taskGate = config.upload.concurrencyPerTask > 0 ? new TaskUploadGate(config.upload.concurrencyPerTask) : undefined;
  return {
    name: "upload-parts",
    register(r) {
      r.value(UploadLimiter, limiter);
      r.value(TaskFailures, failures);
      r.value(UploadParts, { limiter, failures, ...(spread ? { spread } : {}), ...(taskGate ? { taskGate } : {}) });
    },
  };
}

/** The piece-byte server children fetch bytes from. */
export function byteServerModule(ctx: DaemonContext): ServiceModule {
  let server: PieceByteServer | undefined;
  return {
    name: "byte-server",
    async start(resolve) {
      const { limiter, spread, taskGate } = resolve(UploadParts);
      const storage = resolve(DaemonTokens.Storage);
      const { upload } = ctx.config;
      server = new PieceByteServer({
        storage,
        limiter,
        listen: upload.bytesListen,
        logger: ctx.logger,
        ...(ctx.tls ? { tls: ctx.tls } : {}),
        ...(spread ? { spread } : {}),
        ...(taskGate ? { taskGate } : {}),
        limits: {
          headerTimeoutMs: upload.headerTimeout,
          idleTimeoutMs: upload.idleTimeout,
          writeTimeoutMs: upload.writeTimeout,
          connectionsPerAddress: upload.connectionsPerAddress,
          exemptAddresses: upload.connectionsPerAddressExempt,
        },
      });
      ctx.started.bytesPort = await server.start();
      const started = server;
      const metrics = resolve(DaemonMetrics);
      metrics.watchUploads(() => started.served);
      metrics.watchUploadLimits(() => started.cuts);
    },
    stop: () => server?.stop({ graceMs: 500 }),
  };
}

/** The upload gRPC service: piece metadata for children, and the scheduler's triggers. */
export function uploadServiceModule(ctx: DaemonContext): ServiceModule {
  const { config, host, logger } = ctx;
  let server: RpcServer | undefined;
  return {
    name: "upload-service",
    async start(resolve) {
      const { limiter, failures, spread, taskGate } = resolve(UploadParts);
      const conductor = resolve(TaskConductor);
      const announcer = resolve(HostAnnouncer);
      server = createRpcServer({ address: config.upload.listen, ...(ctx.tls ? { tls: ctx.tls.server, access: MEMBER_ACCESS } : {}) });
      server.addService(daemonUpload.DfdaemonUploadService, {
        ...createUploadHandlers({
          storage: resolve(DaemonTokens.Storage),
          host,
          limiter,
          logger,
          failures,
          ...(spread ? { spread } : {}),
          ...(taskGate ? { taskGate } : {}),
          announceWindowMs: config.upload.announceWindow,
          cutThrough: config.upload.cutThrough,
          peerIdOf: (taskId) => conductor.peerIdOf(taskId),
          describeHost: () => announcer.describe(),
        }),
        ...triggerHandlers({ conductor, host, logger }),
      });
      const upload = await server.start();
      if (upload.kind !== "tcp") throw new DfError("INVALID_ARGUMENT", `upload.listen must be a TCP address (host:port), got ${config.upload.listen}`);
      host.setPorts({ upload: upload.port, download: ctx.started.bytesPort ?? 0 });
      ctx.started.upload = formatAddress(upload);
      ctx.started.bytes = formatAddress({ kind: "tcp", host: upload.host, port: ctx.started.bytesPort ?? 0 });
    },
    stop: () => server?.stop({ graceMs: 1000 }),
  };
}
