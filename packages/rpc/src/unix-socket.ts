import { lstat, mkdir, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";
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
