import { readFileSync } from "node:fs";
import { ChannelCredentials, ServerCredentials } from "@grpc/grpc-js";
import { DfError } from "@df/interface/errors";

/** PEM text or bytes, or the path of a PEM file. */
export type PemSource = string | Uint8Array;

export interface ServerTlsOptions {
  /** Server certificate chain and its key. */
  cert: PemSource;
  key: PemSource;
  /** CA that signs client certificates; needed when requireClientCert is set. */
  ca?: PemSource;
  /** Mutual TLS: refuse clients without a certificate signed by `ca`. */
  requireClientCert?: boolean;
}

export interface ClientTlsOptions {
  /** CA that signs the server's certificate; unset trusts the system roots. */
  ca?: PemSource;
  /** Client certificate and key, for servers that require one. */
  cert?: PemSource;
  key?: PemSource;
  /** Name to check the server's certificate against, when it differs from the address. */
  serverName?: string;
}

/** Insecure without options; TLS (or mTLS) with them. */
export function serverCredentials(tls?: ServerTlsOptions): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  if (tls.requireClientCert === true && tls.ca === undefined) {
    throw new DfError("INVALID_ARGUMENT", "requireClientCert needs the CA that signs client certificates", {
      reason: "tls-missing-ca",
    });
  }
  return ServerCredentials.createSsl(
    tls.ca === undefined ? null : readPem(tls.ca, "ca"),
    [{ cert_chain: readPem(tls.cert, "cert"), private_key: readPem(tls.key, "key") }],
    tls.requireClientCert === true,
  );
}

/** Insecure without options; TLS (with a client certificate if given) with them. */
export function channelCredentials(tls?: ClientTlsOptions): ChannelCredentials {
  if (tls === undefined) return ChannelCredentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new DfError("INVALID_ARGUMENT", "a client certificate needs both cert and key", {
      reason: "tls-incomplete-client-cert",
    });
  }
  return ChannelCredentials.createSsl(
    tls.ca === undefined ? null : readPem(tls.ca, "ca"),
    tls.key === undefined ? null : readPem(tls.key, "key"),
    tls.cert === undefined ? null : readPem(tls.cert, "cert"),
  );
}

/** Channel options that make the client verify `serverName` instead of the address. */
export function tlsChannelOptions(tls?: ClientTlsOptions): Record<string, string> {
  if (tls?.serverName === undefined) return {};
  return { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName };
}

function readPem(source: PemSource, what: string): Buffer {
  if (typeof source !== "string") return Buffer.from(source);
  if (source.includes("-----BEGIN ")) return Buffer.from(source, "utf8");
  try {
    return readFileSync(source);
  } catch (error) {
    throw new DfError("INVALID_ARGUMENT", `cannot read TLS ${what} from ${source}`, {
      cause: error,
      reason: "tls-unreadable-pem",
      details: { path: source },
    });
  }
}
