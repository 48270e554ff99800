import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type ContentSpec, contentChunks, contentSize } from "./content.js";
import { parseRangeHeader } from "./origin-range.js";

/** How one published path behaves. Every field is optional; the default is a well-behaved origin. */
export interface OriginRouteOptions {
  /** Honour single `Range` requests with 206 (default true). false: ranges ignored, `Accept-Ranges: none`. */
  readonly ranges?: boolean;
  /** Answer HEAD (default true). false: HEAD gets 405, as presigned-URL stores and some CGI handlers do. */
  readonly head?: boolean;
  /** Send `Content-Length` (default true). false: chunked transfer, length unknown until the end. */
  readonly contentLength?: boolean;
  /** Answer every request with this status and a short text body instead of the content. */
  readonly status?: number;
  /** Fail the first `times` requests: with `status`, or by resetting the connection when it is absent. */
  readonly fail?: { readonly times: number; readonly status?: number };
  /** Wait this long before sending the response headers. */
  readonly delayMs?: number;
  /** Cut the connection after this many body bytes of every GET, as a dropped connection would. */
  readonly truncateAt?: number;
  /** Stop sending after this many body bytes of every GET but keep the connection open: a stuck origin. */
  readonly stallAt?: number;
  /** With `stallAt`: stall only the first this many GETs, then serve normally (a stuck connection that a retry gets past). Default: every GET. */
  readonly stallTimes?: number;
  /** Answer with a redirect to this path or absolute URL. */
  readonly redirect?: string;
  /** Status of the redirect (default 302). */
  readonly redirectStatus?: number;
  /** Extra response headers, on every answer with content. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Replace the content once this many requests have been answered: content that changes under a client. */
  readonly changeAfter?: { readonly requests: number; readonly content: ContentSpec };
}

/** One request as the origin saw it. */
export interface OriginRequest {
  readonly method: string;
  readonly path: string;
  /** The query string including `?`, or "". */
  readonly query: string;
  /** Request headers, names lower-cased. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface OriginPathStats {
  readonly requests: number;
  readonly heads: number;
  readonly gets: number;
  /** Body bytes handed to the network for this path: the origin's egress. */
  readonly bytesServed: number;
}

/**
 * A real HTTP/1.1 (or HTTPS) origin on 127.0.0.1 for tests and benchmarks: serves published
 * content (literal bytes or seeded generated content of any size, streamed with
 * backpressure so it is never whole in memory), honours single byte ranges, and can
 * be told to misbehave per path. It counts requests and egress bytes per path.
 */
export interface OriginServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Body bytes served over all paths since start or the last `resetStats`. */
  readonly bytesServed: number;
  /** TCP connections accepted since start or the last `resetStats`: shows whether clients keep them alive. */
  readonly connections: number;
  url(path: string): string;
  /** Serves `content` at `path` (its query is ignored for routing); returns the URL. Republishing replaces. */
  publish(path: string, content: ContentSpec, options?: OriginRouteOptions): string;
  /** Makes `path` redirect to `to` (a path or absolute URL); returns the URL of `path`. */
  redirect(path: string, to: string, status?: number): string;
  unpublish(path: string): void;
  stats(path: string): OriginPathStats;
  requests(path?: string): readonly OriginRequest[];
  resetStats(): void;
  close(): Promise<void>;
}

export interface StartOriginOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Size of each body write (default 256 KiB). */
  readonly chunkBytes?: number;
  /** Serve HTTPS with this PEM key and certificate instead of plain HTTP. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /**
   * Cap on the origin's total body egress, bytes per second, shared by every response
   * at once (the origin's uplink, not a per-connection limit). Unset: as fast as it goes.
   */
  readonly uploadBytesPerSecond?: number;
}

/** Paces writes so that all responses together stay under one byte rate. */
class Uplink {
  #next = 0;
  constructor(private readonly bytesPerSecond: number) {}

  async take(bytes: number): Promise<void> {
    const now = performance.now();
    const start = Math.max(now, this.#next);
    this.#next = start + (bytes / this.bytesPerSecond) * 1000;
    const wait = start - now;
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

interface Route {
  readonly content: ContentSpec;
  readonly options: OriginRouteOptions;
  readonly lastModified: string;
  answered: number;
  gets: number;
}

interface MutableStats {
  requests: number;
  heads: number;
  gets: number;
  bytesServed: number;
}

export async function startOriginServer(startOptions: StartOriginOptions = {}): Promise<OriginServer> {
  const host = startOptions.host ?? "127.0.0.1";
  const chunkBytes = startOptions.chunkBytes ?? 256 * 1024;
  const uplink = startOptions.uploadBytesPerSecond ? new Uplink(startOptions.uploadBytesPerSecond) : undefined;
  const routes = new Map<string, Route>();
  const stats = new Map<string, MutableStats>();
  let log: OriginRequest[] = [];
  let total = 0;
  let connections = 0;

  const statsOf = (path: string): MutableStats => {
    let entry = stats.get(path);
    if (!entry) {
      entry = { requests: 0, heads: 0, gets: 0, bytesServed: 0 };
      stats.set(path, entry);
    }
    return entry;
  };

  const countBytes = (entry: MutableStats, bytes: number): void => {
    entry.bytesServed += bytes;
    total += bytes;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? "/", "http://origin.invalid");
    const path = target.pathname;
    const method = req.method ?? "GET";
    log.push({ method, path, query: target.search, headers: { ...req.headers } });
    const entry = statsOf(path);
    entry.requests += 1;
    if (method === "HEAD") entry.heads += 1;
    if (method === "GET") entry.gets += 1;

    const route = routes.get(path);
    if (!route) return sendText(res, 404);
    route.answered += 1;
    if (method === "GET") route.gets += 1;
    const stallOver = route.options.stallTimes !== undefined && route.gets > route.options.stallTimes;
    const options: OriginRouteOptions = stallOver ? { ...route.options, stallAt: undefined } : route.options;
    if (options.delayMs) {
      await pause(options.delayMs, res);
      if (res.destroyed) return;
    }
    if (options.fail && route.answered <= options.fail.times) {
      if (options.fail.status !== undefined) return sendText(res, options.fail.status);
      req.socket.destroy();
      return;
    }
    if (options.redirect !== undefined) {
      res.writeHead(options.redirectStatus ?? 302, { location: options.redirect, "content-length": 0 });
      res.end();
      return;
    }
    if (options.status !== undefined) return sendText(res, options.status);
    if (method !== "GET" && method !== "HEAD") return sendText(res, 405, { allow: "GET, HEAD" });
    if (method === "HEAD" && options.head === false) return sendText(res, 405, { allow: "GET" });

    const content =
      options.changeAfter && route.answered > options.changeAfter.requests ? options.changeAfter.content : route.content;
    const size = contentSize(content);
    const headers: OutgoingHttpHeaders = {
      "content-type": "application/octet-stream",
      "accept-ranges": options.ranges === false ? "none" : "bytes",
      etag: etagOf(content),
      "last-modified": route.lastModified,
      ...options.headers,
    };
    let status = 200;
    let start = 0;
    let length = size;
    if (options.ranges !== false && method === "GET") {
      const span = parseRangeHeader(headerValue(req.headers.range), size);
      if (span === "unsatisfiable") {
        res.writeHead(416, { ...headers, "content-range": `bytes */${size}`, "content-length": 0 });
        res.end();
        return;
      }
      if (span) {
        status = 206;
        start = span.start;
        length = span.end - span.start + 1;
        headers["content-range"] = `bytes ${span.start}-${span.end}/${size}`;
      }
    }
    if (options.contentLength !== false) headers["content-length"] = length;
    res.writeHead(status, headers);
    if (method === "HEAD") {
      res.end();
      return;
    }
    await sendBody(res, contentChunks(content, start, length, chunkBytes), options, (bytes) => countBytes(entry, bytes), uplink);
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => res.destroy());
  };
  const server = startOptions.tls ? createTlsServer({ ...startOptions.tls }, listener) : createServer(listener);
  server.on(startOptions.tls ? "secureConnection" : "connection", () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(startOptions.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `${startOptions.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const routeKey = (path: string): string => new URL(path, origin).pathname;
  const url = (path: string): string => new URL(path, origin).toString();
  let closing: Promise<void> | undefined;
  const publish = (path: string, content: ContentSpec, options: OriginRouteOptions = {}): string => {
    routes.set(routeKey(path), { content, options, lastModified: new Date().toUTCString(), answered: 0, gets: 0 });
    return url(path);
  };

  return {
    origin,
    get bytesServed() {
      return total;
    },
    get connections() {
      return connections;
    },
    url,
    publish,
    redirect(path, to, status = 302) {
      return publish(path, new Uint8Array(0), { redirect: to, redirectStatus: status });
    },
    unpublish(path) {
      routes.delete(routeKey(path));
    },
    stats(path) {
      return { ...statsOf(routeKey(path)) };
    },
    requests(path) {
      if (path === undefined) return [...log];
      const key = routeKey(path);
      return log.filter((request) => request.path === key);
    },
    resetStats() {
      stats.clear();
      log = [];
      total = 0;
      connections = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function sendBody(
  res: ServerResponse,
  chunks: Iterable<Uint8Array>,
  options: OriginRouteOptions,
  count: (bytes: number) => void,
  uplink: Uplink | undefined,
): Promise<void> {
  const cut = options.truncateAt ?? options.stallAt;
  let sent = 0;
  for (const chunk of chunks) {
    const piece = cut !== undefined && sent + chunk.length > cut ? chunk.subarray(0, cut - sent) : chunk;
    if (res.destroyed) return;
    if (piece.length > 0) {
      await uplink?.take(piece.length);
      if (res.destroyed) return;
      count(piece.length);
      sent += piece.length;
      if (!res.write(piece)) await drained(res);
    }
    if (cut !== undefined && sent >= cut) break;
  }
  if (res.destroyed) return;
  if (options.truncateAt !== undefined && sent >= options.truncateAt) {
    // end() rather than destroy(): what was written reaches the client, then the close.
    res.socket?.end();
    return;
  }
  if (options.stallAt !== undefined && sent >= options.stallAt) {
    await new Promise<void>((resolve) => res.once("close", () => resolve()));
    return;
  }
  res.end();
}

function sendText(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}): void {
  const body = Buffer.from(`${status} ${statusText(status)}\n`);
  res.writeHead(status, { "content-type": "text/plain", "content-length": body.length, ...headers });
  res.end(body);
}

function statusText(status: number): string {
  const texts: Record<number, string> = { 404: "Not Found", 405: "Method Not Allowed" };
  return texts[status] ?? "test status";
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}

function pause(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once("close", done);
  });
}

const etags = new WeakMap<object, string>();

/** A strong validator that changes with the content, as a real origin's would. */
function etagOf(content: ContentSpec): string {
  if (!(content instanceof Uint8Array)) return `"g-${content.seed}-${content.size}"`;
  let tag = etags.get(content);
  if (tag === undefined) {
    let hash = 0x811c9dc5;
    for (const byte of content) hash = Math.imul(hash ^ byte, 0x01000193);
    tag = `"b-${(hash >>> 0).toString(16)}-${content.length}"`;
    etags.set(content, tag);
  }
  return tag;
}
