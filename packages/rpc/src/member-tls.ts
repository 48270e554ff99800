import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Logger } from "@df/interface";
import { DfError } from "@df/interface/errors";
import type { ClientTlsOptions, ServerTlsOptions } from "./tls.js";

/** A member's `security.tls` block: PEM files of the cluster CA and of this member's certificate and key. */
export interface MemberTlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/**
 * A member's mTLS material, read once at start: every gRPC listener requires a client
 * certificate signed by `ca`, every client presents `cert`, and the daemon's piece-byte
 * transport (HTTPS) does the same with the same files.
 */
export interface MemberTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** For createRpcServer: mTLS, a client certificate from `ca` required. */
  readonly server: ServerTlsOptions;
  /** For createRpcClient: checks the server against `ca`, presents this member's certificate. */
  readonly client: ClientTlsOptions;
}

/**
 * Reads the files of a `security.tls` block (undefined: plaintext); errors name the key.
 * Relative paths are taken from `baseDir` (the config file's folder) when given.
 */
export function loadMemberTls(files: MemberTlsFiles | undefined, options: { baseDir?: string; configKey?: string } = {}): MemberTls | undefined {
  if (files === undefined) return undefined;
  const { baseDir, configKey = "security.tls" } = options;
  const read = (name: keyof MemberTlsFiles): Buffer => {
    try {
      return readFileSync(baseDir === undefined ? files[name] : resolve(baseDir, files[name]));
    } catch (error) {
      throw new DfError("INVALID_ARGUMENT", `${configKey}.${name}: cannot read ${files[name]} (${(error as Error).message}); give the path of a PEM file`, {
        cause: error,
        reason: "tls-unreadable-pem",
        details: { key: `${configKey}.${name}`, path: files[name] },
      });
    }
  };
  const ca = read("ca");
  const cert = read("cert");
  const key = read("key");
  return {
    ca,
    cert,
    key,
    server: { ca, cert, key, requireClientCert: true },
    client: { ca, cert, key },
  };
}

/**
 * Says loudly, once at start, that a service runs without mTLS: anyone who reaches its
 * ports can call it, and no per-role authorization can apply without certificates.
 */
export function warnPlaintext(logger: Logger, service: string): void {
  logger.warn(
    `plaintext: any host on the network can call this ${service} and every call is allowed whatever its role; ` +
      "set security.tls { ca, cert, key } (PEM files) on every member to require and check member certificates",
    { security: "plaintext" },
  );
}
