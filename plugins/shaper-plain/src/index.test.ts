import { describeShaperCompliance, describeShaperDefinitionCompliance } from "@df/compliance-tests";
import { describe, expect, it } from "vitest";
import definition, { PlainShaper } from "./index.js";

describeShaperCompliance("plain", () => new PlainShaper());
describeShaperDefinitionCompliance(definition, { invalidOptions: { totalRateLimit: "fast" }, invalidField: "totalRateLimit", validOptions: { totalRateLimit: "20M" } });

describe("plain shaper", () => {
  it("puts no limit on any task", async () => {
    const shaper = new PlainShaper();
    shaper.addTask({ taskId: "a", pieceLength: 4 * 2 ** 20, contentLength: 2 ** 30 });
    expect(shaper.limitOf("a")).toBe(Infinity);
    const started = performance.now();
    for (let i = 0; i < 1000; i++) await shaper.acquire("a", 4 * 2 ** 20);
    expect(performance.now() - started).toBeLessThan(500);
    shaper.stop();
  });
});
