import { type ContentSpec, contentSize, contentSlice } from "./content.js";

/**
 * Reads `body` to its end, checking every chunk against bytes `[offset, offset + length)`
 * of `content` as it arrives, so a 1 GiB body is checked without being held. Throws at
 * the first wrong byte, or when the body is shorter or longer than `length`. Returns
 * the number of bytes read.
 */
export async function expectContent(
  body: AsyncIterable<Uint8Array>,
  content: ContentSpec,
  offset = 0,
  length = contentSize(content) - offset,
): Promise<number> {
  let received = 0;
  for await (const chunk of body) {
    if (received + chunk.length > length) {
      throw new Error(`body is longer than expected: more than ${length} bytes (at least ${received + chunk.length})`);
    }
    const expected = contentSlice(content, offset + received, chunk.length);
    const actual = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!actual.equals(expected)) {
      const at = firstDifference(actual, expected);
      throw new Error(
        `wrong byte at resource offset ${offset + received + at}: got ${actual[at]}, expected ${expected[at]}`,
      );
    }
    received += chunk.length;
  }
  if (received !== length) throw new Error(`body is shorter than expected: ${received} of ${length} bytes`);
  return received;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length;
}
