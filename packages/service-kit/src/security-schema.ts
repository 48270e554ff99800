import { z } from "zod";

/**
 * A service's `security` block. `tls` (PEM file paths) turns on mutual TLS for every
 * listener and client of the member: the cluster CA, this member's certificate (its role
 * and host in a `spiffe://df/<role>/<host-id>` URI SAN, its IP in an IP SAN) and its key.
 * Unset: plaintext, and the service warns at start.
 */
export const securityConfigSchema = z
  .strictObject({
    tls: z
      .strictObject({
        /** The cluster CA that signs every member's certificate (PEM file). */
        ca: z.string().min(1),
        /** This member's certificate (PEM file). */
        cert: z.string().min(1),
        /** This member's private key (PEM file). */
        key: z.string().min(1),
      })
      .optional(),
  })
  .prefault({});
