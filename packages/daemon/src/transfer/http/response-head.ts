import { DfError } from "@df/interface";

/** The status line and headers of an HTTP/1.1 response. */
export interface ResponseHead {
  status: number;
  /** Lower-case names; a repeated header keeps its first value. */
  headers: Record<string, string>;
  /** Undefined when the response has no Content-Length (then it is not reused). */
  contentLength: number | undefined;
  /** The connection may carry another request after this response. */
  keepAlive: boolean;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/;

/**
 * Parses a response head (everything before the blank line). Strict where it matters
 * for framing: a body length must be a single decimal Content-Length, and chunked
 * bodies are refused (the piece server never sends them).
 */
export function parseResponseHead(text: string): ResponseHead {
  const lines = text.split("\r\n");
  const match = STATUS_LINE.exec(lines[0] ?? "");
  if (!match) throw protocolError(`the status line is not HTTP/1.x: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw protocolError(`a header line has no name: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] ??= line.slice(colon + 1).trim();
  }
  if (headers["transfer-encoding"] !== undefined && headers["transfer-encoding"].toLowerCase() !== "identity") {
    throw protocolError(`transfer-encoding ${headers["transfer-encoding"]} is not supported for pieces`);
  }
  const length = headers["content-length"];
  if (length !== undefined && !/^\d{1,15}$/.test(length)) throw protocolError(`content-length ${JSON.stringify(length)} is not a length`);
  const connection = headers["connection"]?.toLowerCase() ?? "";
  const http10 = match[1] === "0";
  return {
    status: Number(match[2]),
    headers,
    contentLength: length === undefined ? undefined : Number(length),
    keepAlive: length !== undefined && (http10 ? connection === "keep-alive" : connection !== "close"),
  };
}

export function protocolError(message: string): DfError {
  return new DfError("DATA_LOSS", `the parent's piece server broke the HTTP protocol: ${message}`, { reason: "bad-response" });
}
