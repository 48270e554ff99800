import { describeShaperCompliance, describeShaperDefinitionCompliance } from "@df/compliance-tests";
import { resolvePlugin } from "@df/service-kit";
import { describe, expect, it } from "vitest";
import definition, { StaticShaper } from "./index.js";

describeShaperCompliance("static", (limits) => new StaticShaper(limits));
describeShaperDefinitionCompliance(definition, { invalidOptions: { perPeerRateLimit: 0 }, invalidField: "perPeerRateLimit", validOptions: { perPeerRateLimit: "20Mi" } });

describe("static shaper", () => {
  it("holds every task to perPeerRateLimit however many run", async () => {
    const shaper = await resolvePlugin(["static", { totalRateLimit: "100Mi", perPeerRateLimit: "20Mi" }], {
      kind: "shaper",
      key: "download.trafficShaperType",
      builtins: { static: () => definition },
    });
    shaper.addTask({ taskId: "alone", pieceLength: 4 * 2 ** 20, contentLength: 2 ** 30 });
    expect(shaper.limitOf("alone")).toBe(20 * 2 ** 20);
    shaper.addTask({ taskId: "second", pieceLength: 4 * 2 ** 20 });
    expect(shaper.limitOf("alone")).toBe(20 * 2 ** 20);
    expect(shaper.limitOf("second")).toBe(20 * 2 ** 20);
    shaper.stop();
  });
});
