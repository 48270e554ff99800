import { describe, expect, it } from "vitest";
import { SigninLimiter } from "./signin-limiter.js";

const MINUTE = 60_000;

function limiter(perUser = 3, perAddress = 5) {
  const clock = { now: 1_000_000 };
  const limits = { maxFailuresPerUser: perUser, maxFailuresPerAddress: perAddress, windowMs: 15 * MINUTE, lockoutMs: 10 * MINUTE };
  return { clock, limiter: new SigninLimiter(limits, () => clock.now) };
}

/** One sign-in that fails; the scopes it locked out, or the refusal. */
function failOnce(l: SigninLimiter, name: string, address: string) {
  const refused = l.begin(name, address);
  return refused ? { refused } : { locked: l.fail(name, address) };
}

describe("SigninLimiter", () => {
  it("locks a user out after max failures within the window, for the lockout time, whatever the address", () => {
    const { clock, limiter: l } = limiter();
    expect(failOnce(l, "alice", "10.0.0.1")).toEqual({ locked: [] });
    expect(failOnce(l, "alice", "10.0.0.2")).toEqual({ locked: [] });
    expect(failOnce(l, "alice", "10.0.0.3")).toEqual({ locked: ["user"] });
    expect(l.begin("alice", "10.0.0.9")).toEqual({ scope: "user", retryAfterMs: 10 * MINUTE });
    expect(l.begin("bob", "10.0.0.9")).toBeUndefined();
    l.succeed("bob", "10.0.0.9");
    clock.now += 10 * MINUTE - 1;
    expect(l.begin("alice", "10.0.0.9")).toEqual({ scope: "user", retryAfterMs: 1 });
    clock.now += 1;
    expect(l.begin("alice", "10.0.0.9")).toBeUndefined();
    // The lockout cleared the count: the next lockout takes max failures again.
    expect(l.fail("alice", "10.0.0.9")).toEqual([]);
  });

  it("forgets failures older than the window", () => {
    const { clock, limiter: l } = limiter();
    failOnce(l, "alice", "a");
    failOnce(l, "alice", "a");
    clock.now += 15 * MINUTE;
    expect(failOnce(l, "alice", "a")).toEqual({ locked: [] });
    expect(failOnce(l, "alice", "a")).toEqual({ locked: [] });
    expect(failOnce(l, "alice", "a")).toEqual({ locked: ["user"] });
  });

  it("locks an address out after its own max, across user names, and a success does not clear it", () => {
    const { limiter: l } = limiter(3, 4);
    for (const name of ["u1", "u2", "u3"]) expect(failOnce(l, name, "10.9.9.9")).toEqual({ locked: [] });
    expect(l.begin("known", "10.9.9.9")).toBeUndefined();
    l.succeed("known", "10.9.9.9");
    expect(failOnce(l, "u4", "10.9.9.9")).toEqual({ locked: ["address"] });
    expect(l.begin("known", "10.9.9.9")).toMatchObject({ scope: "address" });
    expect(l.begin("known", "10.9.9.8")).toBeUndefined();
  });

  it("clears a user's failures on success", () => {
    const { limiter: l } = limiter();
    failOnce(l, "alice", "a");
    failOnce(l, "alice", "b");
    expect(l.begin("alice", "c")).toBeUndefined();
    l.succeed("alice", "c");
    expect(failOnce(l, "alice", "d")).toEqual({ locked: [] });
    expect(failOnce(l, "alice", "e")).toEqual({ locked: [] });
    expect(failOnce(l, "alice", "f")).toEqual({ locked: ["user"] });
  });

  it("counts sign-ins in flight as failures, so guesses sent at once cannot outrun the limit", () => {
    const { limiter: l } = limiter(3, 100);
    const begun = Array.from({ length: 10 }, () => l.begin("alice", "a"));
    expect(begun.filter((r) => r === undefined)).toHaveLength(3);
    expect(begun.at(-1)).toEqual({ scope: "user", retryAfterMs: 1000 });
    // An attempt the database could not decide counts for nothing.
    l.abandon("alice", "a");
    l.fail("alice", "a");
    expect(l.fail("alice", "a")).toEqual([]);
    expect(l.begin("alice", "a")).toBeUndefined();
    expect(l.fail("alice", "a")).toEqual(["user"]);
  });

  it("remembers a bounded number of keys, and none once sign-ins succeed", () => {
    const { limiter: l } = limiter(3, 1_000_000);
    for (let i = 0; i < 3; i++) failOnce(l, "alice", "b");
    for (let i = 0; i < 100_100; i++) failOnce(l, `user-${i}`, "a");
    expect(l.size).toBeLessThanOrEqual(100_000);
    // Failure counts are forgotten before lockouts.
    expect(l.begin("alice", "c")).toMatchObject({ scope: "user" });
    const { limiter: quiet } = limiter();
    for (let i = 0; i < 10; i++) {
      quiet.begin(`user-${i}`, `10.0.0.${i}`);
      quiet.succeed(`user-${i}`, `10.0.0.${i}`);
    }
    expect(quiet.size).toBe(0);
    // Refused sign-ins from ever new addresses add nothing.
    for (let i = 0; i < 3; i++) failOnce(quiet, "alice", "10.1.1.1");
    const before = quiet.size;
    for (let i = 0; i < 50; i++) expect(quiet.begin("alice", `fd00::${i}`)).toMatchObject({ scope: "user" });
    expect(quiet.size).toBe(before);
  });
});
