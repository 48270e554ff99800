import { noopLogger } from "@df/interface";
import type { daemonUpload, ServiceHandlers } from "@df/rpc";
import type { UploadContext, UploadDeps } from "./context.js";
import { downloadPiece } from "./download-piece.js";
import { statTask } from "./stat-task.js";
import { syncHost } from "./sync-host.js";
import { syncPieces } from "./sync-pieces.js";

/**
 * The peer-facing methods of DfdaemonUpload. DownloadTask (seed trigger) and DeleteTask
 * are the conductor's: spread these into its handlers and add those.
 */
export type UploadHandlers = Pick<
  ServiceHandlers<typeof daemonUpload.DfdaemonUploadService>,
  "syncPieces" | "downloadPiece" | "statTask" | "syncHost"
>;

const DEFAULT_SYNC_HOST_INTERVAL_MS = 1000;

export function createUploadHandlers(deps: UploadDeps): UploadHandlers {
  const context: UploadContext = {
    ...deps,
    logger: (deps.logger ?? noopLogger).child("upload"),
    syncHostIntervalMs: deps.syncHostIntervalMs ?? DEFAULT_SYNC_HOST_INTERVAL_MS,
    announceWindowMs: deps.announceWindowMs ?? 0,
  };
  return {
    syncPieces: (request, { signal }) => syncPieces(context, request, signal),
    downloadPiece: (request, { signal }) => downloadPiece(context, request, signal),
    statTask: async (request) => statTask(context, request),
    syncHost: (request, { signal }) => syncHost(context, request, signal),
  };
}
