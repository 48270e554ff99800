import { readdir, readFile } from "node:fs/promises";
import { request } from "node:http";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manager } from "../manager.js";
import { startTestManager } from "../test-support/databases.js";
import { CONSOLE_CSP, CONSOLE_DIR } from "./static.js";

let manager: Manager;

beforeAll(async () => {
  manager = await startTestManager("pglite:");
});
afterAll(async () => {
  await manager?.stop();
});

/** A request with the path sent exactly as written (fetch would normalise `..`). */
function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = manager.addresses.rest;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function consoleFiles(): Promise<string[]> {
  const entries = await readdir(CONSOLE_DIR, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(CONSOLE_DIR, join(e.parentPath, e.name)).split("\\").join("/"));
}

describe("the web console's files", () => {
  it("redirects / and /console to /console/", async () => {
    expect(await raw("GET", "/")).toMatchObject({ status: 302, headers: { location: "/console/" } });
    expect(await raw("GET", "/console")).toMatchObject({ status: 301, headers: { location: "/console/" } });
  });

  it("serves every file with its content type, revalidation and a strict CSP", async () => {
    const types: Record<string, string> = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml" };
    const files = await consoleFiles();
    expect(files).toEqual(expect.arrayContaining(["index.html", "style.css", "favicon.svg", "js/app.js", "js/api.js", "js/dom.js"]));
    for (const file of files) {
      const answer = await raw("GET", `/console/${file}`);
      expect(answer.status, file).toBe(200);
      expect(answer.headers, file).toMatchObject({
        "content-type": types[file.split(".").at(-1)!],
        "cache-control": "no-cache",
        "content-security-policy": CONSOLE_CSP,
        "x-content-type-options": "nosniff",
        etag: expect.stringMatching(/^"[\w-]{22}"$/),
      });
      expect(answer.body, file).toBe(await readFile(join(CONSOLE_DIR, file), "utf8"));
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain("unsafe");
  });

  it("answers /console/ with index.html, HEAD without a body and a matching If-None-Match with 304", async () => {
    const index = await raw("GET", "/console/");
    expect(index.body).toBe(await readFile(join(CONSOLE_DIR, "index.html"), "utf8"));
    const head = await raw("HEAD", "/console/js/app.js");
    expect(head).toMatchObject({ status: 200, body: "", headers: { "content-type": "text/javascript; charset=utf-8" } });
    expect(Number(head.headers["content-length"])).toBeGreaterThan(100);
    const again = await raw("GET", "/console/", { "if-none-match": String(index.headers["etag"]) });
    expect(again).toMatchObject({ status: 304, body: "" });
    expect((await raw("GET", "/console/", { "if-none-match": '"other"' })).status).toBe(200);
  });

  it("never reaches a file outside the console, nor one it does not list", async () => {
    for (const path of ["/console/../package.json", "/console/%2e%2e/package.json", "/console/js/../../src/index.ts", "/console/..%2fpackage.json", "/console/nope.js", "/console/js/"]) {
      const answer = await raw("GET", path);
      expect(answer.status, path).toBe(404);
      expect(JSON.parse(answer.body), path).toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await raw("POST", "/console/")).status).toBe(404);
  });

  it("has no inline script or style, and builds the page without parsing HTML", async () => {
    const html = await readFile(join(CONSOLE_DIR, "index.html"), "utf8");
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc="\/console\//);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son\w+=/i);
    for (const file of (await consoleFiles()).filter((f) => f.endsWith(".js"))) {
      const source = await readFile(join(CONSOLE_DIR, file), "utf8");
      expect(source, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*["']style/);
      // Every import resolves to a file the manager serves.
      for (const [, target] of source.matchAll(/^import [^;]*? from "(\.[^"]+)";$/gm)) {
        const resolved = new URL(target!, `http://x/console/${file}`).pathname;
        expect((await raw("HEAD", resolved)).status, `${file} imports ${target}`).toBe(200);
      }
    }
  });

  it("ships with the package", async () => {
    const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { files: string[] };
    expect(pkg.files).toContain("console");
  });
});
