import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";
import { noopLogger } from "@df/interface";
import { parseConfig } from "@df/service-kit";
import { Manager, SCHEMA_VERSION, managerConfigSchema } from "@df/manager";
import { formatAddress } from "@df/rpc";
import { Scheduler, schedulerConfigSchema } from "@df/scheduler";
import { testLogger } from "./cluster.js";

/** Between keepalive messages of every member in these tests, and the manager's interval. */
export const KEEPALIVE_MS = 200;

/** A real manager in this test process (in-memory PGlite, loopback), stopped when the test ends unless `manualStop`. */
export async function startTestManager(options: { grpcListen?: string; manualStop?: boolean } = {}): Promise<{ manager: Manager; grpc: string }> {
  const input = {
    restListen: "127.0.0.1:0",
    grpcListen: options.grpcListen ?? "127.0.0.1:0",
    log: { level: "silent" },
    database: { url: "pglite:" },
    auth: { rootPassword: "daemon-test-root-5" },
    keepalive: { interval: KEEPALIVE_MS },
    cache: { ttl: 50 },
  };
  const template = path.join(os.tmpdir(), `df-manager-pglite-template-${SCHEMA_VERSION}.tar`);
  const manager = await Manager.create(parseConfig(managerConfigSchema, input, "manager"), { logger: noopLogger, memoryTemplateFile: template });
  const { grpc } = await manager.start();
  if (!options.manualStop) onTestFinished(() => manager.stop());
  return { manager, grpc: formatAddress(grpc) };
}

/** A real scheduler registered with the manager at `managerAddress` under `hostname`. */
export async function startManagedScheduler(managerAddress: string, hostname: string): Promise<{ scheduler: Scheduler; address: string }> {
  const config = schedulerConfigSchema.parse({
    listen: "127.0.0.1:0",
    metricsListen: "",
    host: { hostname },
    scheduling: { retryInterval: "200ms", registerDelayBase: 0 },
    manager: { addresses: [managerAddress], keepAliveInterval: KEEPALIVE_MS },
  });
  const scheduler = await Scheduler.create(config, { logger: testLogger(`df:scheduler:${hostname}`), managerRetry: { initialMs: 50, maxMs: 500 } });
  const bound = await scheduler.start();
  onTestFinished(() => scheduler.stop());
  if (bound.kind !== "tcp") throw new Error("expected a TCP scheduler address");
  return { scheduler, address: `127.0.0.1:${bound.port}` };
}
