import { describe, expect, it } from "vitest";
import { callerAddress, rateKey } from "./caller.js";

describe("caller addresses", () => {
  it("folds IPv4-mapped IPv6 to IPv4 and keeps loopback addresses apart", () => {
    expect(callerAddress("::ffff:10.1.2.3:5000")).toBe("10.1.2.3");
    expect(callerAddress("[::ffff:10.1.2.3]:5000")).toBe("10.1.2.3");
    expect(callerAddress("127.0.0.2:41000")).toBe("127.0.0.2");
    expect(callerAddress("[::1]:41000")).toBe("::1");
    expect(callerAddress(undefined)).toBe("unknown");
  });

  it("counts announces per IPv4 address and per IPv6 /64", () => {
    expect(rateKey("10.1.2.3")).toBe("10.1.2.3");
    expect(rateKey("2001:db8:0:1::5")).toBe("2001:db8:0:1::/64");
    expect(rateKey("2001:0db8:0000:0001:ffff::9")).toBe("2001:db8:0:1::/64");
    expect(rateKey("::1")).toBe("0:0:0:0::/64");
    expect(rateKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });
});
