import { serveMetrics, type Metrics, type MetricsServer } from "@df/telemetry";
import type { ServiceModule } from "./modules.js";

/**
 * Prometheus /metrics on `listen` (host and port, already parsed from the service's
 * `metricsListen`), or no module when it is unset; `onUrl` hears the URL once it serves.
 */
export function metricsEndpointModule(metrics: Metrics, listen: { host: string; port: number } | undefined, onUrl: (url: string) => void): ServiceModule[] {
  if (!listen) return [];
  let server: MetricsServer | undefined;
  return [
    {
      name: "metrics-endpoint",
      async start() {
        server = await serveMetrics(metrics, listen);
        onUrl(server.url);
      },
      stop: () => server?.close(),
    },
  ];
}
