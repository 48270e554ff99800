import { describe, expect, it } from "vitest";
import { AddressCap, exemptEntryProblem } from "./address-cap.js";

describe("the connection cap per address", () => {
  it("admits up to the limit per address, counts IPv4-mapped addresses as IPv4, and frees on release", () => {
    const cap = new AddressCap(2);
    expect([cap.admit("10.0.0.1"), cap.admit("::ffff:10.0.0.1"), cap.admit("10.0.0.1")]).toEqual([true, true, false]);
    expect(cap.admit("10.0.0.2")).toBe(true);
    cap.release("::ffff:10.0.0.1");
    expect(cap.admit("10.0.0.1")).toBe(true);
    for (const address of ["10.0.0.1", "10.0.0.1", "10.0.0.2"]) cap.release(address);
    expect(cap.addresses).toBe(0);
    // A release with nothing counted does not go below zero.
    cap.release("10.0.0.9");
    expect(cap.addresses).toBe(0);
  });

  it("does not count exempt addresses and subnets, and 0 means no cap", () => {
    const cap = new AddressCap(1, ["127.0.0.0/8", "::1", "fd00::/8"]);
    for (const address of ["127.0.0.1", "127.9.9.9", "::1", "fd00::5", "::ffff:127.0.0.1"]) {
      expect([cap.admit(address), cap.admit(address)]).toEqual([true, true]);
    }
    expect([cap.admit("::2"), cap.admit("::2")]).toEqual([true, false]);
    const none = new AddressCap(0);
    expect(Array.from({ length: 100 }, () => none.admit("10.0.0.1")).every(Boolean)).toBe(true);
  });

  it("names what is wrong with an exempt entry", () => {
    expect(exemptEntryProblem("10.0.0.0/8")).toBeUndefined();
    expect(exemptEntryProblem("::1")).toBeUndefined();
    expect(exemptEntryProblem("10.0.0.0/33")).toMatch(/0 to 32/);
    expect(exemptEntryProblem("::/129")).toMatch(/0 to 128/);
    expect(exemptEntryProblem("10.0.0.0/x")).toMatch(/prefix/);
    expect(exemptEntryProblem("example.com")).toMatch(/not an IP/);
    expect(exemptEntryProblem("10.0.0.0/8/1")).toMatch(/not an IP/);
    expect(() => new AddressCap(1, ["nope"])).toThrow(/not an IP/);
    expect(() => new AddressCap(-1)).toThrow(/whole number/);
  });
});
