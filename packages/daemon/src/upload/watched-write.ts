import type { ServerResponse } from "node:http";

/**
 * A chunk goes to the socket one slice at a time, each once the previous one is in the
 * kernel, so that a reader's progress shows within a chunk: a write's callback runs only
 * once all its bytes are in, and writes queued behind a pending one go out together.
 */
const SLICE = 256 * 1024;

export type WriteOutcome = "written" | "closed" | "stalled";

/**
 * Writes `chunk` to the response. Resolves once every byte is in the kernel ("written"),
 * the response closed first ("closed": a write may still hold the chunk), or no slice
 * went in for `timeoutMs` ("stalled": the response is then destroyed, which frees the
 * upload slot at once). Time spent before the first write, such as a rate limit or a
 * piece still arriving, is not the reader's and is not counted.
 *
 * Progress shows no finer than Linux wakes a blocked writer: once about a third of the
 * send buffer (up to 4 MiB, tcp_wmem) has drained.
 */
export function watchedWrite(response: ServerResponse, chunk: Buffer, timeoutMs: number): Promise<WriteOutcome> {
  return new Promise((resolve) => {
    let offset = 0;
    let progressAt = performance.now();
    let settled = false;
    const settle = (outcome: WriteOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      response.off("close", onClose);
      resolve(outcome);
    };
    const onClose = (): void => settle("closed");
    // One timer per chunk, pushed back on progress, rather than one per slice.
    const check = (): void => {
      const idle = performance.now() - progressAt;
      if (idle < timeoutMs) {
        timer = setTimeout(check, timeoutMs - idle);
        return;
      }
      settle("stalled");
      response.destroy();
    };
    const next = (): void => {
      const end = Math.min(offset + SLICE, chunk.byteLength);
      const slice = chunk.subarray(offset, end);
      offset = end;
      response.write(slice, (error) => {
        if (error) return settle("closed");
        progressAt = performance.now();
        if (offset === chunk.byteLength) settle("written");
        else if (!settled) next();
      });
    };
    let timer = setTimeout(check, timeoutMs);
    response.once("close", onClose);
    next();
  });
}
