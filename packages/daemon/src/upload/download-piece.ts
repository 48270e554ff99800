import { common, daemonUpload } from "@df/rpc";
import type { UploadContext } from "./context.js";
import { lookupPiece, lookupServable } from "./lookup.js";

/**
 * DownloadPiece: one piece's bytes in one gRPC message, for children of a host that
 * announces no byte port. Under the same upload limits as the byte server.
 */
export async function downloadPiece(
  context: UploadContext,
  request: daemonUpload.DownloadPieceRequest,
  signal: AbortSignal,
): Promise<daemonUpload.DownloadPieceResponse> {
  const found = lookupServable(context.storage, request.taskId, request.pieceNumber);
  const { task } = found;
  const number = (found.piece ?? found.arriving).number;
  const spreadDone = context.spread?.admit(task.id, number, request.hostId);
  let ok = false;
  let slot: Awaited<ReturnType<typeof context.limiter.acquire>> | undefined;
  let taskSlot: Awaited<ReturnType<typeof context.limiter.acquire>> | undefined;
  try {
    taskSlot = await context.taskGate?.acquire(task.id, signal);
    slot = await context.limiter.acquire(signal);
    // One message carries the whole piece, so an arriving one is sent once it is stored
    // (or fails as its arrival did); the wait holds an upload slot, so it is bounded.
    if (found.arriving) await found.arriving.until(found.arriving.length, signal);
    const { piece } = found.piece ? found : lookupPiece(context.storage, request.taskId, number);
    const content = await task.readPiece(piece.number, { signal });
    await slot.throttle(content.byteLength, signal);
    slot.sent(content.byteLength);
    ok = true;
    return daemonUpload.DownloadPieceResponse.create({
      piece: common.Piece.create({
        number: piece.number,
        parentId: context.peerIdOf?.(task.id) ?? context.host.id,
        offset: piece.offset,
        length: piece.length,
        digest: piece.digest,
        content,
        trafficType: common.TrafficType.REMOTE_PEER,
        createdAt: new Date(piece.finishedAt),
      }),
    });
  } finally {
    slot?.release(ok);
    taskSlot?.release(ok);
    spreadDone?.(ok);
  }
}
