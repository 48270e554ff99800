import type { Logger } from "@df/interface";
import { manager, ManagerMembership, unary, type ClientTlsOptions } from "@df/rpc";
import type { Metrics } from "@df/telemetry";
import type { DaemonConfig } from "../config.js";
import type { DaemonHost } from "../host.js";

/**
 * A seed peer's membership in the manager: UpdateSeedPeer with its upload and piece
 * ports (known once its servers listen), then a KeepAlive stream, re-registering after
 * the manager returns. The manager hands active seed peers to schedulers and peers.
 */
export function seedPeerMembership(config: DaemonConfig, host: DaemonHost, logger: Logger, metrics: Metrics, tls?: ClientTlsOptions): ManagerMembership {
  const identity = { sourceType: manager.SourceType.SEED_PEER, hostname: host.hostname, ip: host.ip };
  const alive = metrics.gauge("df_daemon_manager_alive", "1 while this seed peer holds a keepalive stream with the manager");
  const registrations = metrics.counter("df_daemon_manager_registrations_total", "UpdateSeedPeer calls the manager accepted");
  alive.set(0);
  return new ManagerMembership({
    addresses: config.manager.addresses,
    identity: manager.KeepAliveRequest.create({ ...identity, clusterId: config.manager.seedPeerClusterId }),
    intervalMs: config.manager.keepAliveInterval,
    logger: logger.child("manager"),
    ...(tls ? { tls } : {}),
    register: async (client, signal) => {
      await unary(
        client,
        "updateSeedPeer",
        manager.UpdateSeedPeerRequest.create({
          ...identity,
          type: "super",
          idc: host.idc,
          location: host.location,
          port: host.uploadPort,
          downloadPort: host.downloadPort,
          seedPeerClusterId: config.manager.seedPeerClusterId,
        }),
        { signal },
      );
      registrations.inc();
    },
    events: { onState: (state) => alive.set(state === "alive" ? 1 : 0) },
  });
}
