/** A member's `security.tls` block: PEM file paths. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export type MemberRole = "manager" | "scheduler" | "seed" | "peer";

export interface MemberSpec {
  name: string;
  role: MemberRole;
  hostId: string;
  /** Default 127.0.0.1. */
  ip?: string;
}

export interface MemberCerts {
  /** The cluster CA certificate. */
  ca: string;
  members: Record<string, TlsFiles>;
  /** A certificate from a CA the cluster does not trust. */
  stranger: TlsFiles;
}

export declare function memberUri(role: MemberRole, hostId: string): string;
export declare function signCertificate(dir: string, name: string, caName: string, sans: readonly string[]): Promise<{ cert: string; key: string }>;
export declare function makeMemberCerts(dir: string, members: readonly MemberSpec[]): Promise<MemberCerts>;
export declare function tlsEnv(prefix: string, files: TlsFiles): Record<string, string>;
