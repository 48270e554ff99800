import { mkdir } from "node:fs/promises";
import path from "node:path";
import { createRpcServer, daemonDownload, type RpcServer } from "@df/rpc";
import type { ServiceModule } from "@df/service-kit";
import { TaskConductor } from "../conductor/conductor.js";
import { downloadServiceHandlers } from "../download-service/handlers.js";
import { groupId } from "../group.js";
import { SchedulerClients } from "../scheduler-link/scheduler-clients.js";
import { DaemonTokens } from "../tokens.js";
import type { DaemonContext } from "./context.js";

/** The download service on the local socket, for dfget and dfcache. */
export function downloadServiceModule(ctx: DaemonContext): ServiceModule {
  const { config, host, logger } = ctx;
  let server: RpcServer | undefined;
  return {
    name: "download-service",
    async start(resolve) {
      const socket = path.resolve(config.download.socket);
      await mkdir(path.dirname(socket), { recursive: true });
      const gid = config.download.socketGroup === undefined ? undefined : await groupId(config.download.socketGroup);
      server = createRpcServer({ address: `unix:${socket}`, socket: gid === undefined ? { mode: 0o600 } : { mode: 0o660, gid } });
      server.addService(
        daemonDownload.DfdaemonDownloadService,
        downloadServiceHandlers({ conductor: resolve(TaskConductor), storage: resolve(DaemonTokens.Storage), schedulers: resolve(SchedulerClients), host, logger }),
      );
      await server.start();
      ctx.started.socket = socket;
    },
    stop: () => server?.stop({ graceMs: 1000 }),
  };
}
