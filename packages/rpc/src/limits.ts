/**
 * Largest message either side accepts or sends. Pieces are up to 64 MiB and DownloadPiece
 * carries one whole, plus metadata; grpc-js's default of 4 MiB would refuse them. In a
 * file of its own so that @df/rpc/lite shares it without loading grpc-js.
 */
export const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
