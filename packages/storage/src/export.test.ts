import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { bytes, openStorage, taskIdOf, tempDir } from "./test-support/fixtures.js";

async function completeTask() {
  const dir = await tempDir();
  const storage = await openStorage({ dir: path.join(dir, "store") });
  const content = bytes(10_000, 5);
  const task = await storage.createTask({ taskId: taskIdOf(1), contentLength: content.length, pieceLength: 4096 });
  for (let n = 0; n < task.pieceCount; n++) await task.writePiece(n, content.subarray(n * 4096, (n + 1) * 4096));
  await task.markComplete();
  return { dir, storage, task, content };
}

/** A folder on another file system than the OS temp dir (tmpfs), if the machine has one. */
async function otherDevice(than: string): Promise<string | undefined> {
  for (const base of ["/dev/shm", "/run/user"]) {
    try {
      if ((await stat(base)).dev === (await stat(than)).dev) continue;
      const dir = await mkdtemp(path.join(base, "df-export-"));
      onTestFinished(() => rm(dir, { recursive: true, force: true }));
      return dir;
    } catch {
      continue;
    }
  }
  return undefined;
}

describe("export", () => {
  it("gives the output bytes of its own by default, so editing it leaves the cached task alone", async () => {
    const { dir, storage, task, content } = await completeTask();
    const output = path.join(dir, "out", "file.bin");
    const result = await storage.exportTask(task.id, output);
    expect(result).toEqual({ path: output, method: "copy" });
    expect((await stat(output)).ino).not.toBe((await stat(task.paths.content)).ino);
    expect(await readFile(output)).toEqual(content);
    await writeFile(output, "edited in place");
    await truncate(output, 3);
    expect(await readFile(task.paths.content)).toEqual(content);
    expect(task.contentUnchanged()).toBe(true);
  });

  it("hard-links only when asked, and the link then is the cached file", async () => {
    const { dir, storage, task, content } = await completeTask();
    const output = path.join(dir, "linked.bin");
    expect(await storage.exportTask(task.id, output, { mode: "hardlink" })).toEqual({ path: output, method: "hardlink" });
    expect((await stat(output)).ino).toBe((await stat(task.paths.content)).ino);
    expect(await readFile(output)).toEqual(content);
    // The link itself changed the file's ctime; the store took that as its reference.
    expect(task.contentUnchanged()).toBe(true);
  });

  it("falls back to a copy across file systems (EXDEV), and fails there in hardlink mode", async () => {
    const { dir, storage, task, content } = await completeTask();
    const elsewhere = (await otherDevice(dir)) ?? dir;
    const crossing = elsewhere !== dir;
    const output = path.join(elsewhere, "file.bin");
    const result = await storage.exportTask(task.id, output);
    expect(result.method).toBe("copy");
    expect(await readFile(output)).toEqual(content);
    if (crossing) {
      await expect(storage.exportTask(task.id, path.join(elsewhere, "linked.bin"), { mode: "hardlink" })).rejects.toMatchObject({
        reason: "exdev",
      });
    }
  });

  it("refuses an existing output unless overwrite, and then replaces it", async () => {
    const { dir, storage, task, content } = await completeTask();
    const output = path.join(dir, "exists.bin");
    await writeFile(output, "old");
    await expect(storage.exportTask(task.id, output)).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    await expect(storage.exportTask(task.id, output, { mode: "copy" })).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    expect(await readFile(output, "utf8")).toBe("old");
    await storage.exportTask(task.id, output, { overwrite: true });
    expect(await readFile(output)).toEqual(content);
    await storage.exportTask(task.id, output, { overwrite: true, mode: "copy" });
    expect(await readFile(output)).toEqual(content);
    await mkdir(path.join(dir, "a-dir"));
    await expect(storage.exportTask(task.id, path.join(dir, "a-dir"), { overwrite: true })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("without overwrite, still tells a folder in the way from a file in the way", async () => {
    const { dir, storage, task, content } = await completeTask();
    await mkdir(path.join(dir, "a-dir"));
    await expect(storage.exportTask(task.id, path.join(dir, "a-dir"))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await writeFile(path.join(dir, "a-file"), "old");
    await expect(storage.exportTask(task.id, path.join(dir, "a-file"))).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
    expect(await storage.exportTask(task.id, path.join(dir, "new.bin"))).toMatchObject({ method: "copy" });
    expect(await readFile(path.join(dir, "new.bin"))).toEqual(content);
  });

  it("re-exports over its own earlier hard link without leaving a temporary file behind", async () => {
    const { dir, storage, task, content } = await completeTask();
    const outDir = path.join(dir, "out");
    const output = path.join(outDir, "file.bin");
    await storage.exportTask(task.id, output, { mode: "hardlink" });
    await storage.exportTask(task.id, output, { overwrite: true, mode: "hardlink" });
    expect(await readFile(output)).toEqual(content);
    expect(await readdir(outDir)).toEqual(["file.bin"]);
  });

  it("refuses outputs that escape the allowed folder by .. or through a symlink", async () => {
    const { dir, storage, task } = await completeTask();
    const allowed = path.join(dir, "allowed");
    const outside = path.join(dir, "outside");
    await mkdir(allowed);
    await mkdir(outside);
    await symlink(outside, path.join(allowed, "link"));

    for (const output of [path.join(allowed, "..", "outside", "x"), path.join(allowed, "link", "x"), path.join(allowed, "link", "new", "x"), "/etc/passwd-df"]) {
      await expect(storage.exportTask(task.id, output, { within: allowed })).rejects.toMatchObject({
        code: "PERMISSION_DENIED",
        reason: "output-escapes",
      });
    }
    await expect(stat(path.join(outside, "x"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(path.join(outside, "new"))).rejects.toMatchObject({ code: "ENOENT" });
    const inside = path.join(allowed, "sub", "ok.bin");
    expect((await storage.exportTask(task.id, inside, { within: allowed })).path).toBe(inside);
  });

  it("refuses to export an incomplete task", async () => {
    const dir = await tempDir();
    const storage = await openStorage({ dir });
    const task = await storage.createTask({ taskId: taskIdOf(2), contentLength: 10, pieceLength: 4 });
    await expect(storage.exportTask(task.id, path.join(dir, "x"))).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "task-incomplete",
    });
  });
});
