import { createHash, type Hash } from "node:crypto";
import { DfError } from "@df/interface/errors";
import { Crc32 } from "./crc32.js";

/** The whole-file digests a user may ask a download to be checked against. */
export const DIGEST_ALGORITHMS = ["crc32", "sha256", "sha512"] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  /** Canonical form: lowercase hex for SHA-2, decimal without leading zeros for CRC-32. */
  encoded: string;
}

const ACCEPTED_FORMS =
  "use crc32:<decimal 0-4294967295>, sha256:<64 hex digits> or sha512:<128 hex digits>";
const HEX_LENGTH: Record<"sha256" | "sha512", number> = { sha256: 64, sha512: 128 };
const MAX_U32 = 0xffff_ffff;

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return (DIGEST_ALGORITHMS as readonly string[]).includes(value);
}

/**
 * Parses `<algorithm>:<encoded>`. Upper-case hex and leading zeros are accepted but
 * canonicalised, so that comparing the `<alg>:<encoded>` strings of two parsed digests
 * is a correct equality test.
 */
export function parseDigest(text: string): ParsedDigest {
  const colon = text.indexOf(":");
  if (colon < 0) throw badDigest(text, "it has no algorithm prefix");
  const algorithm = text.slice(0, colon).toLowerCase();
  const value = text.slice(colon + 1);
  if (!isDigestAlgorithm(algorithm)) {
    throw badDigest(text, `algorithm "${text.slice(0, colon)}" is not supported`);
  }
  if (algorithm === "crc32") {
    if (!/^\d{1,10}$/.test(value) || Number(value) > MAX_U32) {
      throw badDigest(text, "a crc32 digest is an unsigned 32-bit decimal number");
    }
    return { algorithm, encoded: String(Number(value)) };
  }
  const length = HEX_LENGTH[algorithm];
  if (value.length !== length || !/^[0-9a-fA-F]*$/.test(value)) {
    throw badDigest(text, `a ${algorithm} digest is ${length} hex digits`);
  }
  return { algorithm, encoded: value.toLowerCase() };
}

export function formatDigest(digest: ParsedDigest): string {
  return `${digest.algorithm}:${digest.encoded}`;
}

function badDigest(text: string, why: string): DfError {
  return new DfError("INVALID_ARGUMENT", `digest "${text}" is not valid: ${why}; ${ACCEPTED_FORMS}`, {
    details: { digest: text },
  });
}

/** Computes one digest over chunks; `digest()` finishes it and may be called again. */
export interface Digester {
  readonly algorithm: DigestAlgorithm;
  update(chunk: Uint8Array): this;
  /** `<algorithm>:<encoded>`, in the canonical form parseDigest produces. */
  digest(): string;
}

export function createDigester(algorithm: DigestAlgorithm): Digester {
  if (!isDigestAlgorithm(algorithm)) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `digest algorithm "${String(algorithm)}" is not supported; use one of ${DIGEST_ALGORITHMS.join(", ")}`,
      { details: { algorithm } },
    );
  }
  return new StreamingDigester(algorithm);
}

interface Sink {
  update(chunk: Uint8Array): void;
  finish(): string;
}

function sinkFor(algorithm: DigestAlgorithm): Sink {
  if (algorithm === "crc32") {
    const crc = new Crc32();
    return { update: (chunk) => crc.update(chunk), finish: () => crc.digest() };
  }
  const hash: Hash = createHash(algorithm);
  return { update: (chunk) => hash.update(chunk), finish: () => `${algorithm}:${hash.digest("hex")}` };
}

class StreamingDigester implements Digester {
  readonly algorithm: DigestAlgorithm;
  readonly #sink: Sink;
  #result: string | undefined;

  constructor(algorithm: DigestAlgorithm) {
    this.algorithm = algorithm;
    this.#sink = sinkFor(algorithm);
  }

  update(chunk: Uint8Array): this {
    if (this.#result !== undefined) {
      // A hash cannot be reopened; data after the digest would be silently unchecked.
      throw new DfError(
        "FAILED_PRECONDITION",
        `the ${this.algorithm} digest was already computed; create a new digester for more data`,
      );
    }
    this.#sink.update(chunk);
    return this;
  }

  digest(): string {
    this.#result ??= this.#sink.finish();
    return this.#result;
  }
}
