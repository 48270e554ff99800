import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatRate, formatTimeout } from "./human.js";

describe("human sizes and times", () => {
  it("says bytes below 1 KiB and binary units above, carrying 1024.0 over", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(100)).toBe("100 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(300 * 1024 + 512)).toBe("300.5 KiB");
    expect(formatBytes(2 ** 20 - 1)).toBe("1.0 MiB");
    expect(formatBytes(9 * 2 ** 20 + 123)).toBe("9.0 MiB");
    expect(formatBytes(3 * 2 ** 30)).toBe("3.0 GiB");
    expect(formatRate(1.5 * 2 ** 20)).toBe("1.5 MiB/s");
  });

  it("gives durations and timeouts as people write them", () => {
    expect(formatDuration(4.4)).toBe("4 s");
    expect(formatDuration(125)).toBe("2 m 05 s");
    expect(formatDuration(3720)).toBe("1 h 02 m");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("?");
    expect(formatTimeout(3000)).toBe("3s");
    expect(formatTimeout(90_000)).toBe("1m30s");
    expect(formatTimeout(600_000)).toBe("10m");
    expect(formatTimeout(1500)).toBe("1500ms");
  });
});
