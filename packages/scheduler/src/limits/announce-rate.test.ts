import { describe, expect, it } from "vitest";
import { AnnounceRate } from "./announce-rate.js";

describe("AnnounceRate", () => {
  it("gives each address its own burst and rate", () => {
    let now = 0;
    const rate = new AnnounceRate({ announceRate: 10, announceBurst: 3, maxCallers: 10 }, () => now);
    for (let i = 0; i < 3; i++) rate.take("10.0.0.1", "AnnounceHost");
    expect(() => rate.take("10.0.0.1", "AnnounceHost")).toThrow(expect.objectContaining({ code: "RESOURCE_EXHAUSTED", details: expect.objectContaining({ limit: "announceRate" }) }));
    rate.take("10.0.0.2", "AnnounceHost");
    now += 100;
    rate.take("10.0.0.1", "AnnounceHost");
    expect(() => rate.take("10.0.0.1", "AnnounceHost")).toThrow(/limits\.announceRate/);
  });

  it("counts an IPv6 /64 as one caller", () => {
    const rate = new AnnounceRate({ announceRate: 1, announceBurst: 2, maxCallers: 10 }, () => 0);
    rate.take("2001:db8::1", "AnnounceHost");
    rate.take("2001:db8::2", "AnnounceHost");
    expect(() => rate.take("2001:db8::3", "AnnounceHost")).toThrow(/from 2001:db8:0:0::\/64/);
    expect(rate.callers).toBe(1);
  });

  it("drops quiet callers when the table is full, and refuses new ones while all are busy", () => {
    let now = 0;
    const rate = new AnnounceRate({ announceRate: 1, announceBurst: 1, maxCallers: 2 }, () => now);
    rate.take("10.0.0.1", "AnnounceHost");
    rate.take("10.0.0.2", "AnnounceHost");
    expect(() => rate.take("10.0.0.3", "AnnounceHost")).toThrow(expect.objectContaining({ details: expect.objectContaining({ limit: "maxCallers" }) }));
    now += 5000;
    rate.take("10.0.0.3", "AnnounceHost");
    expect(rate.callers).toBe(1);
  });
});
