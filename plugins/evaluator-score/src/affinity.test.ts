import { describe, expect, it } from "vitest";
import { idcAffinity, locationAffinity } from "./affinity.js";

describe("idcAffinity", () => {
  it("is 1 for the same IDC in any case", () => {
    expect(idcAffinity("hz-1", "hz-1")).toBe(1);
    expect(idcAffinity("HZ-1", "hz-1")).toBe(1);
  });

  it("is 0 for different, missing or empty IDCs", () => {
    expect(idcAffinity("hz-1", "hz-2")).toBe(0);
    expect(idcAffinity(undefined, "hz-1")).toBe(0);
    expect(idcAffinity("hz-1", "")).toBe(0);
    expect(idcAffinity("", "")).toBe(0);
    expect(idcAffinity(undefined, undefined)).toBe(0);
  });
});

describe("locationAffinity", () => {
  it("is 1 for equal locations, case aside, whatever their depth", () => {
    expect(locationAffinity("cn|zj|hz", "cn|zj|hz")).toBe(1);
    expect(locationAffinity("CN|Zj|hz", "cn|zj|HZ")).toBe(1);
    expect(locationAffinity("us", "us")).toBe(1);
  });

  it("counts equal leading elements over five", () => {
    expect(locationAffinity("cn|zj|hz|az1|r1", "cn|zj|hz|az1|r2")).toBe(4 / 5);
    expect(locationAffinity("cn|zj|hz", "cn|zj|sh")).toBe(2 / 5);
    expect(locationAffinity("cn|zj", "cn|zj|hz")).toBe(2 / 5);
    expect(locationAffinity("cn|zj|hz", "us|zj|hz")).toBe(0);
  });

  it("stops at the first difference", () => {
    expect(locationAffinity("cn|zj|hz", "cn|bj|hz")).toBe(1 / 5);
  });

  it("compares at most five elements, so deeper differences do not count", () => {
    expect(locationAffinity("a|b|c|d|e|f", "a|b|c|d|e|g")).toBe(1);
    expect(locationAffinity("A|b|c|d|e|f|g", "a|B|c|d|x|y")).toBe(4 / 5);
  });

  it("is 0 when either side is missing or empty", () => {
    expect(locationAffinity(undefined, "cn")).toBe(0);
    expect(locationAffinity("cn", "")).toBe(0);
    expect(locationAffinity("", "")).toBe(0);
  });
});
