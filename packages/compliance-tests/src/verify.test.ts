import { describe, expect, it } from "vitest";
import { generateContent } from "./content.js";
import { expectContent } from "./verify.js";

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}

describe("expectContent", () => {
  const content = { size: 10_000, seed: 4 };

  it("accepts the right bytes in any chunking and returns the count", async () => {
    const bytes = generateContent(4, 100, 5000);
    expect(await expectContent(chunks(bytes.subarray(0, 1), bytes.subarray(1, 4000), bytes.subarray(4000)), content, 100, 5000)).toBe(5000);
  });

  it("names the offset of the first wrong byte", async () => {
    const bytes = Buffer.from(generateContent(4, 100, 5000));
    bytes[1234] = (bytes[1234] ?? 0) ^ 0xff;
    await expect(expectContent(chunks(bytes), content, 100, 5000)).rejects.toThrow(/offset 1334/);
  });

  it("rejects a short or long body", async () => {
    const bytes = generateContent(4, 0, 100);
    await expect(expectContent(chunks(bytes.subarray(0, 99)), content, 0, 100)).rejects.toThrow(/shorter/);
    await expect(expectContent(chunks(bytes, new Uint8Array(1)), content, 0, 100)).rejects.toThrow(/longer/);
  });
});
