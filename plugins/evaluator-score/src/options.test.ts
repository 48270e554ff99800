import { hasErrorCode } from "@df/interface";
import { describe, expect, it } from "vitest";
import { DEFAULT_WEIGHTS, parseScoreOptions, weightSum } from "./options.js";

describe("score options", () => {
  it("defaults to the classic weights, which add up to 1", () => {
    expect(parseScoreOptions().weights).toEqual(DEFAULT_WEIGHTS);
    expect(parseScoreOptions({ weights: {} }).weights).toEqual(DEFAULT_WEIGHTS);
    expect(weightSum(DEFAULT_WEIGHTS)).toBeCloseTo(1, 15);
  });

  it("keeps the defaults for weights left out", () => {
    expect(parseScoreOptions({ weights: { idc: 1, location: 0 } }).weights).toEqual({ ...DEFAULT_WEIGHTS, idc: 1, location: 0 });
  });

  it("rejects negative, non-finite and non-numeric weights", () => {
    expect(() => parseScoreOptions({ weights: { idc: -0.1 } })).toThrow(/options\.weights\.idc: a weight must be 0 or more/);
    expect(() => parseScoreOptions({ weights: { location: Number.POSITIVE_INFINITY } })).toThrow(/weights\.location/);
    expect(() => parseScoreOptions({ weights: { hostType: "high" as never } })).toThrow(/weights\.hostType/);
  });

  it("rejects weights that add up to zero or overflow", () => {
    const zero = { finishedPiece: 0, uploadSuccess: 0, freeUpload: 0, hostType: 0, idc: 0, location: 0 };
    expect(() => parseScoreOptions({ weights: zero })).toThrow(/options\.weights: the weights must add up to a positive, finite number/);
    expect(() => parseScoreOptions({ weights: { idc: Number.MAX_VALUE, location: Number.MAX_VALUE } })).toThrow(/positive, finite/);
  });

  it("rejects unknown fields with a DfError", () => {
    const error = (() => {
      try {
        parseScoreOptions({ weights: { idcc: 1 } as never });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(hasErrorCode(error, "INVALID_ARGUMENT", "invalid-plugin-options")).toBe(true);
    expect((error as Error).message).toMatch(/idcc/);
    expect(() => parseScoreOptions({ weight: {} } as never)).toThrow(/weight/);
  });
});
