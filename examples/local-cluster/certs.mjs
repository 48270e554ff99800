// Member certificates for a cluster with mTLS, made with the openssl CLI: one CA, and one
// certificate per member that carries its role and host ID in a URI SAN
// (spiffe://df/<role>/<host-id>) and its IP in an IP SAN (members are reached by IP, and
// TLS checks the address dialled against the certificate's IP SANs).
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const DAYS = "2";

async function openssl(dir, ...args) {
  await run("openssl", args, { cwd: dir });
}

/** A self-signed CA (EC P-256: keys are made in milliseconds, and the record cipher decides throughput, not the key). */
async function makeCa(dir, name) {
  await openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", DAYS,
    "-subj", `/CN=${name}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", `${name}.key`, "-out", `${name}.crt`);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** The URI SAN that names a member's role and host. */
export function memberUri(role, hostId) {
  return `spiffe://df/${role}/${hostId}`;
}

/**
 * A certificate for `name` signed by the CA `caName` in `dir`: serverAuth and clientAuth
 * (every member both serves and calls), SANs from `sans` (e.g. ["IP:127.0.0.1", "URI:spiffe://df/peer/…"]).
 */
export async function signCertificate(dir, name, caName, sans) {
  await writeFile(join(dir, `${name}.ext`),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sans.join(",")}\n`);
  await openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", `/CN=${name}`,
    "-keyout", `${name}.key`, "-out", `${name}.csr`);
  await openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.crt`, "-CAkey", `${caName}.key`,
    "-CAcreateserial", "-days", DAYS, "-extfile", `${name}.ext`, "-out", `${name}.crt`);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/**
 * Makes, in `dir`, the cluster CA and a certificate per member: `members` is a list of
 * { name, role, hostId, ip } (role: manager, scheduler, seed or peer). Also a CA nobody
 * trusts and a "stranger" certificate it signed, for tests of refused callers.
 * Returns the CA path, each member's { ca, cert, key } (a `security.tls` block) by name,
 * and the stranger's.
 */
export async function makeMemberCerts(dir, members) {
  await mkdir(dir, { recursive: true });
  const ca = await makeCa(dir, "ca");
  await makeCa(dir, "other-ca");
  const out = {};
  for (const { name, role, hostId, ip = "127.0.0.1" } of members) {
    const signed = await signCertificate(dir, name, "ca", [`IP:${ip}`, `URI:${memberUri(role, hostId)}`]);
    out[name] = { ca: ca.cert, ...signed };
  }
  const stranger = await signCertificate(dir, "stranger", "other-ca", ["IP:127.0.0.1", `URI:${memberUri("peer", "127.0.0.1-stranger")}`]);
  return { ca: ca.cert, members: out, stranger: { ca: ca.cert, ...stranger } };
}

/** The environment that sets a service's `security.tls` (prefix DF_DAEMON_, DF_SCHEDULER_ or DF_MANAGER_). */
export function tlsEnv(prefix, files) {
  return { [`${prefix}SECURITY__TLS__CA`]: files.ca, [`${prefix}SECURITY__TLS__CERT`]: files.cert, [`${prefix}SECURITY__TLS__KEY`]: files.key };
}
