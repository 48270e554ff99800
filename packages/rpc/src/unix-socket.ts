import { chmod, chown, lstat, mkdir, mkdtemp, rename, rm, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { DfError, toDfError } from "@df/interface/errors";

/**
 * Makes a unix socket path ready to bind: creates its directory, and removes a socket
 * file left by a process that died without cleaning up. A path that holds anything but
 * a socket, or a socket some process still answers on, is never touched.
 */
export async function prepareUnixSocket(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw toDfError(error);
  }
  if (!isSocket) {
    throw new DfError("ALREADY_EXISTS", `${path} exists and is not a socket; refusing to replace it`, {
      reason: "address-in-use",
      details: { path },
    });
  }
  if (await answers(path)) {
    throw new DfError("ALREADY_EXISTS", `another process is listening on ${path}`, {
      reason: "address-in-use",
      details: { path },
    });
  }
  await unlink(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw toDfError(error);
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * A private place to bind a unix socket before it is published: a fresh directory
 * beside `path` that only this user can enter, so the socket's permissions can be set
 * before anyone else can reach it (a socket is created with the process's umask).
 * `publish` sets them and moves the socket to `path` (a rename on one file system: the
 * listening server keeps it); the directory goes either way.
 */
export async function stageUnixSocket(path: string): Promise<{ path: string; publish(target: string, mode: number, gid?: number): Promise<void> }> {
  // Short names: a socket path has room for about 107 bytes.
  const dir = await mkdtemp(join(dirname(path), ".s"));
  await chmod(dir, 0o700);
  const staged = join(dir, "s");
  return {
    path: staged,
    async publish(target, mode, gid) {
      try {
        await setSocketMode(staged, mode, gid);
        await rename(staged, target);
      } catch (error) {
        throw new DfError("UNAVAILABLE", `cannot publish the socket at ${target}: ${toDfError(error).message}`, {
          cause: error,
          reason: "bind-failed",
          details: { path: target },
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Sets a socket's mode (and group, when given). */
export async function setSocketMode(path: string, mode: number, gid?: number): Promise<void> {
  if (gid !== undefined) await chown(path, -1, gid);
  await chmod(path, mode);
}
