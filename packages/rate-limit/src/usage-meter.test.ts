import { describe, expect, it } from "vitest";
import { UsageMeter } from "./usage-meter.js";

describe("UsageMeter", () => {
  it("reports what the previous whole second saw", () => {
    let now = 10_000;
    const meter = new UsageMeter({ now: () => now });
    meter.record(100);
    meter.record(50);
    expect(meter.lastPeriod()).toBe(0);
    expect(meter.currentPeriod()).toBe(150);
    now += 1000;
    meter.record(7);
    expect(meter.lastPeriod()).toBe(150);
    expect(meter.currentPeriod()).toBe(7);
    now += 999;
    expect(meter.lastPeriod()).toBe(150);
    now += 1;
    expect(meter.lastPeriod()).toBe(7);
    expect(meter.total).toBe(157);
  });

  it("reports 0 once a quiet second has passed", () => {
    let now = 0;
    const meter = new UsageMeter({ now: () => now });
    meter.record(1000);
    now = 2500;
    expect(meter.lastPeriod()).toBe(0);
  });
});
