import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isDfError } from "@df/interface";
import { describe, expect, it } from "vitest";
import { crc32Digest } from "./crc32.js";
import { createDigester } from "./digest.js";
import { DigestVerifier, digestVerifyingStream } from "./verifier.js";
import { thrown } from "./test-support/errors.js";

const data = randomBytes(300_001);
const sha256 = createDigester("sha256").update(data).digest();
const sha512 = createDigester("sha512").update(data).digest();
const crc = crc32Digest(data);

function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe("DigestVerifier", () => {
  it.each([sha256, sha512, crc])("accepts matching bytes for %s", (expected) => {
    const verifier = new DigestVerifier(expected);
    for (const chunk of chunks(data, 65_536)) verifier.update(chunk);
    expect(() => verifier.verify()).not.toThrow();
    expect(verifier.actual()).toBe(expected);
  });

  it.each([sha256, sha512, crc])("reports a single flipped byte for %s", (expected) => {
    const corrupt = Buffer.from(data);
    corrupt[123_456] = (corrupt[123_456] ?? 0) ^ 0x01;
    const verifier = new DigestVerifier(expected).update(corrupt);
    const error = thrown(() => verifier.verify());
    expect(error.code).toBe("DATA_LOSS");
    expect(error.reason).toBe("digest-mismatch");
    expect(error.details?.expected).toBe(expected);
    expect(error.details?.actual).not.toBe(expected);
    expect(error.details?.actual).toMatch(new RegExp(`^${expected.split(":")[0]}:`));
    expect(error.message).toContain(expected);
  });

  it("reports missing bytes (a truncated download)", () => {
    const verifier = new DigestVerifier(sha256).update(data.subarray(0, data.length - 1));
    expect(thrown(() => verifier.verify()).reason).toBe("digest-mismatch");
  });

  it("compares canonical forms, so upper-case expected digests still match", () => {
    const verifier = new DigestVerifier(sha256.toUpperCase()).update(data);
    expect(verifier.expected).toBe(sha256);
    expect(() => verifier.verify()).not.toThrow();
  });

  it("refuses a malformed expected digest before any byte is read", () => {
    expect(thrown(() => new DigestVerifier("sha256:abc")).code).toBe("INVALID_ARGUMENT");
  });
});

describe("digestVerifyingStream", () => {
  async function run(input: Uint8Array, expected: string): Promise<{ out: Buffer; error: unknown }> {
    const received: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        callback();
      },
    });
    let error: unknown;
    try {
      await pipeline(Readable.from(chunks(input, 10_000)), digestVerifyingStream(expected), sink);
    } catch (caught) {
      error = caught;
    }
    return { out: Buffer.concat(received), error };
  }

  it("passes the bytes through unchanged and finishes when they match", async () => {
    const { out, error } = await run(data, sha256);
    expect(error).toBeUndefined();
    expect(out.equals(data)).toBe(true);
  });

  it("errors the pipeline with DATA_LOSS at the end when they do not", async () => {
    const corrupt = Buffer.from(data);
    corrupt[0] = (corrupt[0] ?? 0) ^ 0xff;
    const { out, error } = await run(corrupt, crc);
    expect(isDfError(error)).toBe(true);
    expect(error).toMatchObject({ code: "DATA_LOSS", reason: "digest-mismatch", details: { expected: crc } });
    // Every byte went through: the check only happens once the stream has ended.
    expect(out.length).toBe(corrupt.length);
  });

  it("verifies empty content", async () => {
    const emptySha = createDigester("sha256").digest();
    expect((await run(new Uint8Array(0), emptySha)).error).toBeUndefined();
    expect((await run(new Uint8Array(0), "crc32:1")).error).toMatchObject({ code: "DATA_LOSS" });
  });

  it("throws at creation for a malformed digest", () => {
    expect(thrown(() => digestVerifyingStream("sha1:00")).code).toBe("INVALID_ARGUMENT");
  });
});
