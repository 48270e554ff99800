import { describe, expect, it } from "vitest";
import { DIGEST_ALGORITHMS, createDigester, formatDigest, parseDigest, type DigestAlgorithm } from "./digest.js";
import { thrown } from "./test-support/errors.js";

const text = (s: string) => new TextEncoder().encode(s);
const SHA256 = "6ae8a75555209fd6c44157c0aed8016e763ff435a19cf186f76863140143ff72";
const SHA512 =
  "0cbf4caef38047bba9a24e621a961484e5d2a92176a859e7eb27df343dd34eb98d538a6c5f4da1ce302ec250b821cc001e46cc97a704988297185a4df7e99602";

describe("parseDigest", () => {
  it("accepts the three forms", () => {
    expect(parseDigest(`sha256:${SHA256}`)).toEqual({ algorithm: "sha256", encoded: SHA256 });
    expect(parseDigest(`sha512:${SHA512}`)).toEqual({ algorithm: "sha512", encoded: SHA512 });
    expect(parseDigest("crc32:1475635037")).toEqual({ algorithm: "crc32", encoded: "1475635037" });
    expect(parseDigest("crc32:0")).toEqual({ algorithm: "crc32", encoded: "0" });
    expect(parseDigest("crc32:4294967295")).toEqual({ algorithm: "crc32", encoded: "4294967295" });
  });

  it("canonicalises upper-case spellings and leading zeros", () => {
    expect(parseDigest(`SHA256:${SHA256.toUpperCase()}`)).toEqual({ algorithm: "sha256", encoded: SHA256 });
    expect(parseDigest("crc32:0000000042")).toEqual({ algorithm: "crc32", encoded: "42" });
    expect(formatDigest(parseDigest(`sha512:${SHA512.toUpperCase()}`))).toBe(`sha512:${SHA512}`);
  });

  it.each([
    "",
    SHA256,
    "md5:d41d8cd98f00b204e9800998ecf8427e",
    `sha256:${SHA256.slice(1)}`,
    `sha256:${SHA256}0`,
    `sha256:${SHA256.slice(1)}g`,
    `sha512:${SHA256}`,
    "crc32:4294967296",
    "crc32:-1",
    "crc32:12345678901",
    "crc32:",
    "crc32:1e3",
    "crc32: 1",
    "crc32:ff",
  ])("refuses %j and lists the accepted forms", (digest) => {
    const error = thrown(() => parseDigest(digest));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain(`"${digest}"`);
    expect(error.message).toContain("crc32:<decimal");
    expect(error.message).toContain("sha256:<64 hex digits>");
    expect(error.message).toContain("sha512:<128 hex digits>");
  });
});

describe("createDigester", () => {
  const expected: Record<DigestAlgorithm, string> = {
    crc32: "crc32:1475635037",
    sha256: `sha256:${SHA256}`,
    sha512: `sha512:${SHA512}`,
  };

  it.each(DIGEST_ALGORITHMS)("%s over chunks equals the known digest of 'test content'", (algorithm) => {
    const digester = createDigester(algorithm);
    expect(digester.algorithm).toBe(algorithm);
    digester.update(text("test ")).update(text("")).update(text("content"));
    expect(digester.digest()).toBe(expected[algorithm]);
    // Asking again gives the same answer rather than a finalised-hash error.
    expect(digester.digest()).toBe(expected[algorithm]);
  });

  it("produces strings parseDigest accepts unchanged", () => {
    for (const algorithm of DIGEST_ALGORITHMS) {
      const digest = createDigester(algorithm).update(text("x")).digest();
      expect(formatDigest(parseDigest(digest))).toBe(digest);
    }
  });

  it("refuses data after the digest was taken", () => {
    const digester = createDigester("sha256");
    digester.digest();
    expect(thrown(() => digester.update(text("late"))).code).toBe("FAILED_PRECONDITION");
  });

  it("refuses an unknown algorithm", () => {
    const error = thrown(() => createDigester("md5" as DigestAlgorithm));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain("md5");
  });
});
