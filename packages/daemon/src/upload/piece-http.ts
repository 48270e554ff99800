import { DfError, isErrorCode, type ErrorCode } from "@df/interface";

/**
 * The piece-byte protocol over HTTP/1.1, shared by the byte server and its client:
 * `GET /pieces/{taskId}/{number}` answers 200 with exactly the piece's bytes and the
 * headers below, or an error status whose `x-df-code`/`x-df-reason` headers carry the
 * DfError (the body says the same in words).
 */
export const PIECE_PATH_PREFIX = "/pieces/";

export const HEADERS = {
  /** `crc32:<decimal>` of the bytes in the body. */
  digest: "x-df-digest",
  offset: "x-df-offset",
  number: "x-df-piece-number",
  code: "x-df-code",
  reason: "x-df-reason",
  /** The asking host, sent by the client for upload logs. */
  hostId: "x-df-host-id",
  /** On a `piece-spread` refusal: the task's pieces (comma-separated) the seed would refuse this child now. */
  spreading: "x-df-spreading",
} as const;

export function piecePath(taskId: string, number: number): string {
  return `${PIECE_PATH_PREFIX}${encodeURIComponent(taskId)}/${number}`;
}

/** Parses a request path; undefined when it is not a piece path. */
export function parsePiecePath(path: string): { taskId: string; number: string } | undefined {
  if (!path.startsWith(PIECE_PATH_PREFIX)) return undefined;
  const rest = path.slice(PIECE_PATH_PREFIX.length).split("?", 1)[0] as string;
  const parts = rest.split("/");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") return undefined;
  try {
    return { taskId: decodeURIComponent(parts[0] as string), number: parts[1] as string };
  } catch {
    return undefined;
  }
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  OUT_OF_RANGE: 416,
  RESOURCE_EXHAUSTED: 503,
  UNAVAILABLE: 503,
  FAILED_PRECONDITION: 503,
  CANCELLED: 499,
  DEADLINE_EXCEEDED: 504,
  DATA_LOSS: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** The DfError an error answer stands for: its headers first, else its status. */
export function errorFromAnswer(status: number, headers: Record<string, string | string[] | undefined>, body: string, what: string): DfError {
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const sent = header(HEADERS.code);
  const code: ErrorCode = isErrorCode(sent) ? sent : codeOfStatus(status);
  const reason = header(HEADERS.reason);
  const text = body.trim().slice(0, 500) || `HTTP ${status}`;
  const spreading = parseSpreading(header(HEADERS.spreading));
  return new DfError(code, `${what}: the parent answered ${status}: ${text}`, {
    ...(reason ? { reason } : {}),
    details: { status, ...(spreading ? { spreading } : {}) },
  });
}

/** Piece numbers a parent may list; more is not a seed's answer, and is ignored. */
const MAX_SPREADING = 1024;

/** The `x-df-spreading` list: piece numbers, or undefined when absent or not a short list of them. */
export function parseSpreading(value: string | undefined): number[] | undefined {
  if (value === undefined || value === "") return undefined;
  const parts = value.split(",", MAX_SPREADING + 1);
  if (parts.length > MAX_SPREADING) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,10}$/.test(part)) return undefined;
    numbers.push(Number(part));
  }
  return numbers;
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 404) return "NOT_FOUND";
  if (status === 416) return "OUT_OF_RANGE";
  if (status === 400) return "INVALID_ARGUMENT";
  if (status === 503 || status === 429) return "UNAVAILABLE";
  if (status === 504) return "DEADLINE_EXCEEDED";
  return "INTERNAL";
}
