import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { DfError } from "@df/interface";

const metricName = /^df_[a-z][a-z0-9_]*$/;

function checkName(name: string): void {
  if (!metricName.test(name)) {
    throw new DfError("INVALID_ARGUMENT", `metric name "${name}" must match ${metricName} (df_<component>_<thing>[_unit|_total])`);
  }
}

/**
 * One Prometheus registry per service instance (never prom-client's global one, so many
 * services in one test process keep their own counts). Names must carry the `df_` prefix.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(options: { defaultLabels?: Record<string, string>; processMetrics?: boolean } = {}) {
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: "df_process_" });
  }

  /**
   * A counter; `collect`, if given, runs at every scrape, for totals kept elsewhere (it
   * sets them with `reset()` and `inc()`).
   */
  counter<L extends string = string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (counter: Counter<L>) => void | Promise<void>,
  ): Counter<L> {
    checkName(name);
    return new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect ? { collect(this: Counter<L>) { return collect(this); } } : {}),
    });
  }

  /** A gauge; `collect` runs at every scrape, for values read from live state. */
  gauge<L extends string = string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (gauge: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    checkName(name);
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect ? { collect(this: Gauge<L>) { return collect(this); } } : {}),
    });
  }

  histogram<L extends string = string>(
    name: string,
    help: string,
    options: { labelNames?: readonly L[]; buckets?: number[] } = {},
  ): Histogram<L> {
    checkName(name);
    return new Histogram({
      name,
      help,
      labelNames: options.labelNames ?? [],
      ...(options.buckets ? { buckets: options.buckets } : {}),
      registers: [this.registry],
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (and `/healthy`) for a registry on the given host and port. */
export async function serveMetrics(metrics: Metrics, options: { host?: string; port?: number } = {}): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method === "GET" && request.url === "/metrics") {
      metrics.text().then(
        (body) => {
          response.writeHead(200, { "content-type": metrics.registry.contentType });
          response.end(body);
        },
        (error: unknown) => {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end(String(error));
        },
      );
      return;
    }
    if (request.method === "GET" && request.url === "/healthy") {
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("ok\n");
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" });
    response.end("not found: try /metrics\n");
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
