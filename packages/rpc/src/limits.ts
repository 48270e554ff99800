/**
 * Largest message either side accepts or sends. Pieces are up to 64 MiB and DownloadPiece
 * carries one whole, plus metadata; grpc-js's default of 4 MiB would refuse them. In a
 * file of its own so that @df/rpc/lite shares it without loading grpc-js.
 */
export const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

/**
 * Largest request message a df server accepts. df's requests are small (the largest, a
 * task's piece list, is about 1 MB for 16,000 pieces); a caller must not make a server
 * take in a whole 128 MiB message. Answers (DownloadPiece carries a whole piece) may
 * still be up to MAX_MESSAGE_BYTES.
 */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
