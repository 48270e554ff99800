import { sql } from "kysely";
import { DfError } from "@df/interface";
import { hashPassword, hashToken, newToken, verifyPassword } from "../auth/secrets.js";
import type { Lockout, LockScope, SigninLimiter } from "../auth/signin-limiter.js";
import { KNOWN_DEFAULT_PASSWORDS } from "../config.js";
import type { Database, Tx } from "../db/database.js";
import type { UserRow } from "../db/schema.js";
import type { Principal } from "./context.js";

const unauthenticated = (message: string, reason: string) => new DfError("UNAUTHENTICATED", message, { reason });

/** The audit actor of what nobody signed in did. */
const ANONYMOUS = "anonymous";

function lockedOut({ scope, retryAfterMs }: Lockout): DfError {
  const seconds = Math.ceil(retryAfterMs / 1000);
  const who = scope === "user" ? "this user" : "this address";
  return new DfError("RESOURCE_EXHAUSTED", `too many failed sign-ins for ${who}: try again in ${seconds} s`, {
    reason: "signin-locked",
    details: { scope, retryAfterSeconds: seconds },
  });
}

// Verifying against this when the user does not exist keeps sign-in time independent of
// whether the name is known.
let dummyHash: Promise<string> | undefined;

/** What sign-in reports besides its answer: failures and lockouts (Prometheus counters). */
export interface SigninCounters {
  failed(reason: "wrong-credentials" | "user-disabled" | "locked-out"): void;
  lockedOut(scope: LockScope): void;
}

/** Sign-in, sessions, personal access tokens and the initial root user. */
export class Authenticator {
  constructor(
    private readonly database: Database,
    private readonly sessionTtlMs: number,
    private readonly limiter: SigninLimiter,
    private readonly counters: SigninCounters,
  ) {}

  /** Creates the root user on an empty database; an existing one keeps its password. */
  async ensureRoot(password: string): Promise<boolean> {
    const hash = await hashPassword(password);
    const inserted = await this.database.run((db) =>
      db
        .insertInto("users")
        .values({ name: "root", email: "", password_hash: hash, role: "root" })
        .onConflict((oc) => oc.column("name").doNothing())
        .executeTakeFirst(),
    );
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /**
   * Password → session token. Unknown user, wrong password and disabled user are all
   * 401, and audited with the name and address (never the password); a user or address
   * locked out after too many failures is 429 before any password is checked, so a
   * lockout cannot be used to go on guessing.
   */
  async signin(name: string, password: string, address: string): Promise<{ token: string; expiresAt: Date; user: UserRow }> {
    const lockout = this.limiter.begin(name, address);
    if (lockout) {
      this.counters.failed("locked-out");
      throw lockedOut(lockout);
    }
    let decided = false;
    try {
      const user = await this.database.run((db) => db.selectFrom("users").selectAll().where("name", "=", name).executeTakeFirst());
      const ok = await verifyPassword(password, user?.password_hash ?? (await (dummyHash ??= hashPassword("not a password"))));
      if (!user || !ok || user.state !== "enabled") {
        const reason = !user || !ok ? "wrong-credentials" : "user-disabled";
        decided = true;
        await this.#failed(name, address, user, reason);
        throw reason === "wrong-credentials" ? unauthenticated("wrong user name or password", reason) : unauthenticated(`user ${user!.name} is disabled`, reason);
      }
      decided = true;
      this.limiter.succeed(name, address);
      const token = newToken("session");
      const expiresAt = new Date(Date.now() + this.sessionTtlMs);
      await this.database.transaction(async (tx) => {
        await tx.deleteFrom("sessions").where("expires_at", "<", sql<Date>`now()`).execute();
        await tx.insertInto("sessions").values({ token_hash: hashToken(token), user_id: user.id, expires_at: expiresAt }).execute();
        await audit(tx, user.name, "signin", "users", user.id, { address });
      });
      return { token, expiresAt, user };
    } finally {
      if (!decided) this.limiter.abandon(name, address);
    }
  }

  /** Counts a failed sign-in towards the lockouts and audits it, and any lockout it starts. */
  async #failed(name: string, address: string, user: UserRow | undefined, reason: "wrong-credentials" | "user-disabled"): Promise<void> {
    this.counters.failed(reason);
    const locked = this.limiter.fail(name, address);
    for (const scope of locked) this.counters.lockedOut(scope);
    const target = user ? user.id : "";
    const known = user !== undefined;
    await this.database.transaction(async (tx) => {
      await audit(tx, ANONYMOUS, "signin-failed", "users", target, { name, address, known, reason });
      for (const scope of locked) await audit(tx, ANONYMOUS, "signin-locked", "users", target, { name, address, known, scope });
    });
  }

  async signout(principal: Principal): Promise<void> {
    if (principal.via !== "session") return;
    await this.database.run((db) => db.deleteFrom("sessions").where("token_hash", "=", principal.tokenHash).execute());
  }

  /** The principal behind `Authorization: Bearer …`; 401 when missing, unknown, expired or revoked. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    if (!match) throw unauthenticated("sign in first: send Authorization: Bearer <token>", "missing-token");
    const token = match[1]!;
    const tokenHash = hashToken(token);
    if (token.startsWith("dfs_")) {
      const row = await this.database.run((db) =>
        db
          .selectFrom("sessions as s")
          .innerJoin("users as u", "u.id", "s.user_id")
          .select(["u.id", "u.name", "u.role", "u.state", "s.expires_at"])
          .where("s.token_hash", "=", tokenHash)
          .executeTakeFirst(),
      );
      if (!row) throw unauthenticated("the session token is not valid (signed out or never issued)", "invalid-token");
      if (row.expires_at.getTime() <= Date.now()) throw unauthenticated("the session has expired: sign in again", "token-expired");
      if (row.state !== "enabled") throw unauthenticated(`user ${row.name} is disabled`, "user-disabled");
      return { userId: row.id, name: row.name, role: row.role, via: "session", expiresAt: row.expires_at, tokenHash };
    }
    if (token.startsWith("dfp_")) {
      const row = await this.database.run((db) =>
        db
          .selectFrom("personal_access_tokens as t")
          .innerJoin("users as u", "u.id", "t.user_id")
          .select(["t.id as token_id", "u.id", "u.name", "u.role", "u.state", "t.expires_at", "t.revoked", "t.scopes", "t.last_used_at"])
          .where("t.token_hash", "=", tokenHash)
          .executeTakeFirst(),
      );
      if (!row) throw unauthenticated("the personal access token is not valid", "invalid-token");
      if (row.revoked) throw unauthenticated("the personal access token has been revoked", "token-revoked");
      if (row.expires_at.getTime() <= Date.now()) throw unauthenticated("the personal access token has expired", "token-expired");
      if (row.state !== "enabled") throw unauthenticated(`user ${row.name} is disabled`, "user-disabled");
      if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
        await this.database.run((db) =>
          db.updateTable("personal_access_tokens").set({ last_used_at: sql<Date>`now()` }).where("id", "=", row.token_id).execute(),
        );
      }
      return { userId: row.id, name: row.name, role: row.role, via: "token", scopes: row.scopes, tokenId: row.token_id, expiresAt: row.expires_at, tokenHash };
    }
    throw unauthenticated("unknown token format", "invalid-token");
  }
}

/** Refuses a root password that is missing, short or a well-known default. */
export function checkRootPassword(password: string | undefined): string {
  if (!password) {
    throw new DfError(
      "INVALID_ARGUMENT",
      "the initial root password is not set: set auth.rootPassword in the config or DF_MANAGER_ROOT_PASSWORD in the environment",
      { reason: "root-password-missing" },
    );
  }
  if (KNOWN_DEFAULT_PASSWORDS.includes(password.toLowerCase())) {
    throw new DfError("INVALID_ARGUMENT", `the initial root password must not be a well-known default ("${password}"); choose another`, {
      reason: "root-password-default",
    });
  }
  if (password.length < 8) {
    throw new DfError("INVALID_ARGUMENT", "the initial root password must be at least 8 characters", { reason: "root-password-short" });
  }
  return password;
}

/** One audit row, in the transaction of the change it records. */
export async function audit(
  tx: Tx,
  actor: string,
  action: string,
  resource: string,
  resourceId: number | string,
  details: Record<string, unknown>,
): Promise<void> {
  await tx
    .insertInto("audit_log")
    .values({ actor, action, resource, resource_id: String(resourceId), details: JSON.stringify(details) })
    .execute();
}
