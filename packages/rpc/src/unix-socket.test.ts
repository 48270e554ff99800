import { spawn } from "node:child_process";
import { lstat, readFile, readdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRpcClient, createRpcServer, scheduler, unary } from "./index.js";
import { prepareUnixSocket } from "./unix-socket.js";
import { withTempDir } from "./test-support/harness.js";

/** Leaves a socket file nobody listens on, as a daemon killed with SIGKILL does. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, [
    "-e",
    `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
  ]);
  await new Promise((resolve) => child.once("exit", resolve));
  expect((await lstat(path)).isSocket()).toBe(true);
}

describe("unix socket preparation", () => {
  it("replaces a stale socket left by a dead process, and the server serves on it", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "stale.sock");
      await staleSocket(path);
      const server = createRpcServer({ address: `unix://${path}` });
      server.addService(scheduler.SchedulerService, {
        statTask: (request) => scheduler.StatTaskResponse.create({ task: { id: request.taskId } }),
      });
      const client = createRpcClient(scheduler.SchedulerClient, await server.start());
      try {
        const response = await unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "ok" }));
        expect(response.task?.id).toBe("ok");
      } finally {
        client.close();
        await server.stop();
      }
    });
  });

  it("creates the socket for its owner only whatever the umask (or as configured), leaves no staging behind, and removes it on stop", async () => {
    await withTempDir(async (dir) => {
      const previous = process.umask(0);
      try {
        for (const [name, socket, expected] of [
          ["default.sock", undefined, 0o600],
          ["group.sock", { mode: 0o660, gid: process.getgid?.() ?? 0 }, 0o660],
        ] as const) {
          const path = join(dir, name);
          const server = createRpcServer({ address: path, ...(socket ? { socket } : {}) });
          server.addService(scheduler.SchedulerService, {
            statTask: (request) => scheduler.StatTaskResponse.create({ task: { id: request.taskId } }),
          });
          const client = createRpcClient(scheduler.SchedulerClient, await server.start());
          try {
            expect((await lstat(path)).mode & 0o777).toBe(expected);
            expect((await unary(client, "statTask", scheduler.StatTaskRequest.create({ taskId: "ok" }))).task?.id).toBe("ok");
          } finally {
            client.close();
            await server.stop();
          }
          await expect(lstat(path)).rejects.toMatchObject({ code: "ENOENT" });
        }
        expect(await readdir(dir)).toEqual([]);
      } finally {
        process.umask(previous);
      }
    });
  });

  it("sets the mode in place where a staged path would be too long for a socket address", async () => {
    await withTempDir(async (dir) => {
      const previous = process.umask(0);
      try {
        const path = join(dir, `${"d".repeat(Math.max(1, 100 - dir.length))}.sock`);
        const server = createRpcServer({ address: path });
        try {
          await server.start();
          expect((await lstat(path)).mode & 0o777).toBe(0o600);
        } finally {
          await server.stop();
        }
      } finally {
        process.umask(previous);
      }
    });
  });

  it("creates missing parent directories", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "a", "b", "df.sock");
      await prepareUnixSocket(path);
      const server = createRpcServer({ address: path });
      try {
        expect(await server.start()).toEqual({ kind: "unix", path });
      } finally {
        await server.stop();
      }
    });
  });

  it("never removes a file that is not a socket", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "precious.sock");
      await writeFile(path, "data");
      await expect(prepareUnixSocket(path)).rejects.toMatchObject({ code: "ALREADY_EXISTS", reason: "address-in-use" });
      expect(await readFile(path, "utf8")).toBe("data");
    });
  });

  it("never takes over a socket another process still listens on", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "live.sock");
      const other = createServer();
      await new Promise<void>((resolve) => other.listen(path, resolve));
      try {
        const server = createRpcServer({ address: path });
        try {
          await expect(server.start()).rejects.toMatchObject({ code: "ALREADY_EXISTS", reason: "address-in-use" });
        } finally {
          await server.stop();
        }
        expect((await lstat(path)).isSocket()).toBe(true);
      } finally {
        await new Promise((resolve) => other.close(resolve));
      }
    });
  });
});
