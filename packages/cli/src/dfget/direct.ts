import { createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import { rename, rm } from "node:fs/promises";
import { DfError } from "@df/interface/errors";
import { DigestVerifier, parseByteRange } from "@df/piece";
import { createHttpSource } from "@df/source-http";
import type { DfgetOptions } from "./options.js";
import type { Progress } from "./progress.js";
import { reclaimer } from "./reclaim.js";

/**
 * Fetches straight from the source, for when no daemon answers: the same output, range,
 * digest and overwrite rules as through the daemon. Written to a temporary name beside
 * the output and renamed at the end, so a failure never leaves a partial file there.
 */
export async function downloadDirect(options: DfgetOptions, progress: Progress, signal: AbortSignal): Promise<number> {
  // The user's own process fetching the URL the user named, as curl would: no one else's
  // request can reach the network through it, so no destination is refused.
  const source = createHttpSource({ destinations: { allow: ["0.0.0.0/0", "::/0"] } });
  try {
    const request = { url: options.url, header: options.header, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) };
    const stat = await source.stat(request, { signal });
    let range: { start: number; length: number } | undefined;
    if (options.range) {
      if (stat.contentLength === undefined) {
        throw new DfError("FAILED_PRECONDITION", "the origin does not say how long the file is, so a range cannot be cut from it");
      }
      range = parseByteRange(options.range, stat.contentLength);
    }
    const total = range ? range.length : (stat.contentLength ?? 0);
    progress.start(total);
    const response = await source.get({ ...request, ...(range ? { range } : {}) }, { signal });
    const verifier = options.digest && !range ? new DigestVerifier(options.digest) : undefined;
    const toStdout = options.output === "-";
    const temporary = `${options.output}.dfget-${process.pid}.part`;
    const out: Writable = toStdout ? process.stdout : createWriteStream(temporary, { flags: "wx" });
    // A write error (disk full) is remembered and rethrown in order, never left unhandled.
    let writeError: unknown;
    out.on("error", (error) => (writeError ??= error));
    let written = 0;
    const reclaim = toStdout ? reclaimer(2 ** 21) : undefined;
    try {
      for await (const chunk of response.body) {
        if (writeError) throw writeError;
        verifier?.update(chunk);
        written += chunk.length;
        progress.advance(chunk.length, "origin");
        if (!out.write(chunk)) await drained(out);
        reclaim?.(chunk.length);
      }
      verifier?.verify();
      if (writeError) throw writeError;
      if (!toStdout) {
        await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
        await rename(temporary, options.output);
      }
    } catch (error) {
      if (!toStdout) {
        out.destroy();
        await rm(temporary, { force: true });
      }
      throw error;
    }
    return written;
  } finally {
    await source.close();
  }
}

/**
 * Resolves on 'drain', rejects on 'error' or 'close': a reader that closed the pipe
 * (EPIPE) never drains, and waiting only for 'drain' left nothing to keep the process
 * alive, so it exited 0 with the download unfinished.
 */
function drained(out: Writable): Promise<void> {
  if (out.destroyed) return Promise.reject(out.errored ?? new Error("the output was closed"));
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: Error): void => {
      out.off("drain", onDrain);
      out.off("error", onError);
      out.off("close", onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void => settle(out.errored ?? new Error("the output was closed"));
    out.on("drain", onDrain);
    out.on("error", onError);
    out.on("close", onClose);
  });
}
