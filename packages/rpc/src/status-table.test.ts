import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "@df/interface/errors";
import { errorCodeOfStatus, GRPC_STATUS } from "./status-table.js";

describe("the gRPC status table", () => {
  it("gives every DfError code its namesake's number in grpc-js, and back", () => {
    for (const code of ERROR_CODES) {
      expect(GRPC_STATUS[code]).toBe(status[code]);
      expect(errorCodeOfStatus(status[code])).toBe(code);
    }
  });

  it("reads OK, UNKNOWN and numbers outside gRPC's as INTERNAL", () => {
    expect([status.OK, status.UNKNOWN, 17, -1].map(errorCodeOfStatus)).toEqual(["INTERNAL", "INTERNAL", "INTERNAL", "INTERNAL"]);
  });
});
