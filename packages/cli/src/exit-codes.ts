import type { ErrorCode } from "@df/interface/errors";

/**
 * What a script can rely on. 0: done. 2: the command line was wrong. Otherwise the
 * code says what kind of failure it was, so `dfget … || case $? in 3) …` works.
 */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  ALREADY_EXISTS: 4,
  PERMISSION_DENIED: 5,
  UNAVAILABLE: 6,
  DATA_LOSS: 7,
  TIMEOUT: 124,
  CANCELLED: 130,
  /**
   * Standard output was closed by its reader (`dfget -O - … | head -c 1000`): dfget stops
   * quietly with 128 + SIGPIPE (13), the status `cat` or `curl … | head` leave in a shell
   * pipeline, which `set -o pipefail` scripts already treat as "the reader had enough".
   * Node ignores SIGPIPE, so dfget exits with the number rather than dying of the signal.
   */
  OUTPUT_CLOSED: 141,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "INVALID_ARGUMENT":
    case "OUT_OF_RANGE":
      return EXIT.USAGE;
    case "NOT_FOUND":
      return EXIT.NOT_FOUND;
    case "ALREADY_EXISTS":
      return EXIT.ALREADY_EXISTS;
    case "PERMISSION_DENIED":
    case "UNAUTHENTICATED":
      return EXIT.PERMISSION_DENIED;
    case "UNAVAILABLE":
      return EXIT.UNAVAILABLE;
    case "DATA_LOSS":
      return EXIT.DATA_LOSS;
    case "DEADLINE_EXCEEDED":
      return EXIT.TIMEOUT;
    case "CANCELLED":
      return EXIT.CANCELLED;
    default:
      return EXIT.FAILED;
  }
}
