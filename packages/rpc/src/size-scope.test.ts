import { describe, expect, it } from "vitest";
import { common, sizeScopeToProto } from "./index.js";

describe("sizeScopeToProto", () => {
  it("maps every size class to its wire value, UNKNOWN to UNSPECIFIED", () => {
    expect(sizeScopeToProto("EMPTY")).toBe(common.SizeScope.EMPTY);
    expect(sizeScopeToProto("TINY")).toBe(common.SizeScope.TINY);
    expect(sizeScopeToProto("SMALL")).toBe(common.SizeScope.SMALL);
    expect(sizeScopeToProto("NORMAL")).toBe(common.SizeScope.NORMAL);
    expect(sizeScopeToProto("UNKNOWN")).toBe(common.SizeScope.UNSPECIFIED);
  });
});
