import { isIP, isIPv6 } from "node:net";
import { DfError } from "@df/interface/errors";

/** Where a df gRPC service listens or is reached. */
export type Address = UnixAddress | TcpAddress;

export interface UnixAddress {
  readonly kind: "unix";
  /** Absolute path of the socket file. */
  readonly path: string;
}

export interface TcpAddress {
  readonly kind: "tcp";
  /** Hostname, IPv4 address, or IPv6 address without brackets. */
  readonly host: string;
  /** 0 only when binding: the system picks a port. */
  readonly port: number;
}

// sun_path is 108 bytes on Linux including the terminating NUL; a longer path fails at
// bind or connect with an error that does not mention the length.
const MAX_UNIX_PATH_BYTES = 107;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/**
 * Parses the address forms df accepts in config and on command lines:
 * `unix:/abs/path`, `unix:///abs/path`, `/abs/path.sock`, `host:port`, `10.0.0.1:port`,
 * `[::1]:port` and `tcp://host:port`. Anything else is INVALID_ARGUMENT.
 */
export function parseAddress(input: string): Address {
  if (input.startsWith("unix://")) return unixAddress(input, input.slice("unix://".length), "unix:///");
  if (input.startsWith("unix:")) return unixAddress(input, input.slice("unix:".length), "unix:/");
  if (input.startsWith("/")) return unixAddress(input, input, "/");
  if (input.startsWith("tcp://")) return tcpAddress(input, input.slice("tcp://".length));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    throw invalid(input, "unsupported scheme; use unix:/path, host:port or tcp://host:port");
  }
  return tcpAddress(input, input);
}

/** Accepts an address already parsed, so APIs can take either form. */
export function toAddress(address: string | Address): Address {
  return typeof address === "string" ? parseAddress(address) : address;
}

/** The target string grpc-js expects, for both binding and connecting. */
export function formatAddress(address: Address): string {
  if (address.kind === "unix") return `unix:${address.path}`;
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function unixAddress(input: string, path: string, form: string): UnixAddress {
  if (!path.startsWith("/")) {
    throw invalid(input, `a unix socket path must be absolute (${form}…)`);
  }
  if (path.includes("\0")) throw invalid(input, "a unix socket path must not contain NUL");
  if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) {
    throw invalid(input, `a unix socket path may be at most ${MAX_UNIX_PATH_BYTES} bytes`);
  }
  return { kind: "unix", path };
}

function tcpAddress(input: string, hostPort: string): TcpAddress {
  let host: string;
  let portText: string;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0 || hostPort[close + 1] !== ":") throw invalid(input, "expected [ipv6]:port");
    host = hostPort.slice(1, close);
    portText = hostPort.slice(close + 2);
    if (!isIPv6(host)) throw invalid(input, `${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = hostPort.lastIndexOf(":");
    if (colon < 0) throw invalid(input, "missing port; expected host:port");
    host = hostPort.slice(0, colon);
    portText = hostPort.slice(colon + 1);
    if (host.includes(":")) throw invalid(input, "an IPv6 address needs brackets: [addr]:port");
    if (host === "") throw invalid(input, "missing host; expected host:port");
    if (isIP(host) === 0 && !HOSTNAME.test(host)) {
      throw invalid(input, `${JSON.stringify(host)} is not a valid host name`);
    }
  }
  return { kind: "tcp", host, port: parsePort(input, portText) };
}

function parsePort(input: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw invalid(input, "the port must be a number from 0 to 65535");
  const port = Number(text);
  if (port > 65535) throw invalid(input, "the port must be a number from 0 to 65535");
  return port;
}

function invalid(address: string, why: string): DfError {
  return new DfError("INVALID_ARGUMENT", `invalid address ${JSON.stringify(address)}: ${why}`, {
    reason: "invalid-address",
    details: { address },
  });
}

/**
 * The host and port of a plain TCP listener given in config (`host:port`, `[v6]:port`,
 * `:port` for `defaultHost`), such as a metrics or REST address. INVALID_ARGUMENT names
 * the config `key` when it is anything else.
 */
export function parseListen(listen: string, key: string, defaultHost = "127.0.0.1"): [string, number] {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65_535) {
    throw new DfError("INVALID_ARGUMENT", `${key} must be host:port (e.g. 127.0.0.1:9000), got "${listen}"`, { reason: "invalid-config", details: { key, listen } });
  }
  return [(match[1] ?? match[2]) || defaultHost, port];
}
