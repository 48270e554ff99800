import { describe, expect, it } from "vitest";
import { hostId, peerId, pieceId } from "./ids.js";
import { thrown } from "./test-support/errors.js";

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

describe("hostId", () => {
  it("is ip-hostname, with -seed for seed peers (Rust client vectors)", () => {
    expect(hostId("127.0.0.1", "localhost")).toBe("127.0.0.1-localhost");
    expect(hostId("127.0.0.1", "localhost", { seed: true })).toBe("127.0.0.1-localhost-seed");
    expect(hostId("127.0.0.1", "localhost", { seed: false })).toBe("127.0.0.1-localhost");
  });

  it("refuses empty parts", () => {
    expect(thrown(() => hostId("", "h")).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => hostId("1.2.3.4", "")).code).toBe("INVALID_ARGUMENT");
  });
});

describe("peerId", () => {
  it("is ip-hostname-uuid v4", () => {
    expect(peerId("172.18.0.3", "kind-worker")).toMatch(new RegExp(`^172\\.18\\.0\\.3-kind-worker-${UUID}$`));
  });

  it("ends in -seed for seed peers", () => {
    expect(peerId("127.0.0.1", "localhost", { seed: true })).toMatch(new RegExp(`^127\\.0\\.0\\.1-localhost-${UUID}-seed$`));
  });

  it("is fresh on every call", () => {
    const ids = new Set(Array.from({ length: 100 }, () => peerId("10.0.0.1", "h")));
    expect(ids.size).toBe(100);
  });

  it("refuses empty parts", () => {
    expect(thrown(() => peerId("10.0.0.1", "")).code).toBe("INVALID_ARGUMENT");
  });
});

describe("pieceId", () => {
  it("is taskId-number", () => {
    expect(pieceId("abc", 0)).toBe("abc-0");
    expect(pieceId("abc", 4294967295)).toBe("abc-4294967295");
  });

  it("refuses a negative or fractional number and an empty task ID", () => {
    expect(thrown(() => pieceId("abc", -1)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => pieceId("abc", 1.5)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => pieceId("", 1)).code).toBe("INVALID_ARGUMENT");
  });
});
