import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DfError } from "@df/interface";

/** The console's files: `console/` beside `src/` and `dist/`, so both the source tree and the built package find it. */
export const CONSOLE_DIR = fileURLToPath(new URL("../../console/", import.meta.url));

/** No inline script or style, nothing from another origin, never framed. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** True for the paths the console answers: `/` (a redirect) and everything under `/console`. */
export function isConsolePath(pathname: string): boolean {
  return pathname === "/" || pathname === "/console" || pathname.startsWith("/console/");
}

/**
 * Serves the web console's static files. They are a few small files, read once into a
 * map keyed by URL path: a request can only ever name one of them, so no path it sends
 * reaches the file system. No hashed names, so every answer is revalidated (ETag, 304).
 */
export class ConsoleAssets {
  #assets: Promise<Map<string, Asset>> | undefined;

  constructor(private readonly dir: string = CONSOLE_DIR) {}

  /** Answers a GET or HEAD of a console path; returns the status sent. */
  async serve(request: IncomingMessage, response: ServerResponse, pathname: string): Promise<number> {
    if (pathname === "/" || pathname === "/console") {
      response.writeHead(pathname === "/" ? 302 : 301, { location: "/console/", "content-length": "0", "cache-control": "no-cache" });
      response.end();
      return pathname === "/" ? 302 : 301;
    }
    this.#assets ??= load(this.dir).catch((error: unknown) => {
      this.#assets = undefined;
      throw new DfError("INTERNAL", `cannot read the console's files in ${this.dir}`, { cause: error });
    });
    const asset = (await this.#assets).get(pathname === "/console/" ? "/console/index.html" : pathname);
    if (!asset) throw new DfError("NOT_FOUND", `the console has no file ${pathname}`, { reason: "no-route" });
    const headers = {
      "content-type": asset.type,
      "content-length": String(asset.body.length),
      "cache-control": "no-cache",
      etag: asset.etag,
      "content-security-policy": CONSOLE_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
    };
    const fresh = request.headers["if-none-match"]?.split(",").some((tag) => tag.trim() === asset.etag) ?? false;
    const status = fresh ? 304 : 200;
    response.writeHead(status, headers);
    response.end(fresh || request.method === "HEAD" ? undefined : asset.body);
    return status;
  }
}

async function load(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || !type) continue;
    const file = join(entry.parentPath, entry.name);
    const body = await readFile(file);
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
    assets.set(`/console/${file.slice(dir.length).split(/[\\/]/).filter(Boolean).join("/")}`, { body, type, etag });
  }
  return assets;
}
