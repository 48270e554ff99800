import { chmod, mkdir, symlink, truncate } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { isDfError } from "@df/interface";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import plugin, { createLocalSource } from "./index.js";
import { fileArea, type FileArea } from "./test-support/files.js";

let area: FileArea;
beforeAll(async () => {
  area = await fileArea();
});
afterAll(async () => {
  await area.remove();
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; reason?: string }> {
  try {
    await promise;
  } catch (error) {
    expect(isDfError(error), String(error)).toBe(true);
    return error as { code: string; reason?: string };
  }
  throw new Error("expected a failure");
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of body) total += chunk.byteLength;
  return total;
}

describe("local source", () => {
  it("is a source plugin named local for file: URLs", () => {
    expect(plugin.kind).toBe("source");
    expect(plugin.name).toBe("local");
    expect(createLocalSource().schemes).toEqual(["file"]);
  });

  it("with recycle, reads whole chunks into that many buffers taken in turn", async () => {
    const bytes = new Uint8Array(10_000).map((_, i) => (i * 7) % 251);
    const url = await area.write("recycled.bin", bytes);
    const response = await createLocalSource({ chunkSize: 4096 }).get({ url }, { recycle: 2 });
    const chunks: Uint8Array[] = [];
    const copies: Buffer[] = [];
    for await (const chunk of response.body) {
      chunks.push(chunk);
      copies.push(Buffer.from(chunk));
    }
    expect(copies.map((c) => c.byteLength)).toEqual([4096, 4096, 1808]);
    expect(Buffer.concat(copies).equals(Buffer.from(bytes))).toBe(true);
    // Chunk 0 and chunk 2 share one buffer; chunk 1 has the other.
    expect(chunks[2]!.buffer).toBe(chunks[0]!.buffer);
    expect(chunks[1]!.buffer).not.toBe(chunks[0]!.buffer);
  });

  it("refuses a directory as not-a-file", async () => {
    await mkdir(path.join(area.dir, "folder"), { recursive: true });
    const error = await failure(createLocalSource().stat({ url: area.url("folder") }));
    expect(error).toMatchObject({ code: "INVALID_ARGUMENT", reason: "not-a-file" });
  });

  it("refuses an unreadable file with PERMISSION_DENIED", async () => {
    const url = await area.write("secret.bin", new Uint8Array([1, 2, 3]));
    await chmod(new URL(url), 0o000);
    // Root reads any file: drop to an unprivileged effective user for the check (this
    // test file runs in a process of its own) and come back after.
    const asRoot = process.geteuid?.() === 0;
    if (asRoot) process.seteuid!(65534);
    try {
      const error = await failure(createLocalSource().stat({ url }));
      expect(error.code).toBe("PERMISSION_DENIED");
    } finally {
      if (asRoot) process.seteuid!(0);
    }
  });

  it("refuses files outside its roots, also through a symbolic link", async () => {
    const outside = await fileArea();
    try {
      const target = await outside.write("other.bin", new Uint8Array([9]));
      await symlink(new URL(target).pathname, path.join(area.dir, "link.bin"));
      const client = createLocalSource({ roots: [area.dir] });
      expect((await failure(client.stat({ url: target }))).code).toBe("PERMISSION_DENIED");
      expect((await failure(client.stat({ url: area.url("link.bin") }))).code).toBe("PERMISSION_DENIED");
    } finally {
      await outside.remove();
    }
  });

  it("refuses other schemes and remote hosts", async () => {
    const client = createLocalSource();
    expect((await failure(client.stat({ url: "https://example.com/x" }))).code).toBe("INVALID_ARGUMENT");
    expect((await failure(client.stat({ url: "file://other-host/etc/hosts" }))).code).toBe("INVALID_ARGUMENT");
  });

  it("tells a file that changed length apart (source-changed), and a range past the end", async () => {
    const url = await area.write("moving.bin", { size: 10_000, seed: 1 });
    const client = createLocalSource();
    const changed = await failure(client.get({ url, expectedLength: 9_999 }));
    expect(changed).toMatchObject({ code: "ABORTED", reason: "source-changed" });
    expect((await failure(client.get({ url, range: { start: 9_000, length: 2_000 } }))).code).toBe("OUT_OF_RANGE");
  });

  it("fails with DATA_LOSS when the file shrinks while being read", async () => {
    const url = await area.write("shrinking.bin", { size: 4 * 65536, seed: 2 });
    const response = await createLocalSource({ chunkSize: 65536 }).get({ url });
    const iterator = response.body[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await truncate(new URL(url), 65536);
    const error = await failure(
      (async () => {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          // reading on
        }
      })(),
    );
    expect(error.code).toBe("DATA_LOSS");
  });

  it("reads a file whose name needs percent-encoding", async () => {
    const url = await area.write("a name with spaces & #.bin", { size: 1234, seed: 3 });
    expect(url).toBe(pathToFileURL(path.join(area.dir, "a name with spaces & #.bin")).href);
    const response = await createLocalSource().get({ url });
    expect(await drain(response.body)).toBe(1234);
  });
});
