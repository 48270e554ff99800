import { Transform, type TransformCallback } from "node:stream";
import { DfError } from "@df/interface/errors";
import { createDigester, formatDigest, parseDigest, type Digester } from "./digest.js";

/**
 * Checks a whole download against the digest the user gave (`--digest`). The expected
 * digest is parsed up front so a typo fails before any byte is fetched, not after.
 */
export class DigestVerifier {
  readonly expected: string;
  readonly #digester: Digester;

  constructor(expected: string) {
    const parsed = parseDigest(expected);
    this.expected = formatDigest(parsed);
    this.#digester = createDigester(parsed.algorithm);
  }

  update(chunk: Uint8Array): this {
    this.#digester.update(chunk);
    return this;
  }

  /** The digest of the bytes seen so far; no further update is allowed after it. */
  actual(): string {
    return this.#digester.digest();
  }

  /** Throws DATA_LOSS (reason `digest-mismatch`) unless the bytes match. */
  verify(): void {
    const actual = this.actual();
    if (actual !== this.expected) {
      throw new DfError(
        "DATA_LOSS",
        `downloaded content does not match the expected digest: expected ${this.expected}, got ${actual}; the source may have changed or a peer served corrupt data, so discard the output and download again`,
        { reason: "digest-mismatch", details: { expected: this.expected, actual } },
      );
    }
  }
}

/**
 * A pass-through stream that checks the bytes against `expected` and, on mismatch,
 * errors at the end instead of finishing, so a pipeline writing to disk fails rather
 * than leaving a corrupt file that looks complete.
 */
export function digestVerifyingStream(expected: string): Transform {
  const verifier = new DigestVerifier(expected);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      verifier.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      try {
        verifier.verify();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
