import { describe, expect, it } from "vitest";
import { pluginEntrySchema } from "./entry-schema.js";

describe("pluginEntrySchema", () => {
  it("takes a name, a name with options in a pair or an object, a package and a path", () => {
    for (const entry of ["sigma", ["score", { weight: 2 }], ["score"], { name: "score" }, { name: "score", options: {} }, "@acme/df-evaluator", "./mine.js"]) {
      expect(pluginEntrySchema.safeParse(entry).success).toBe(true);
    }
  });

  it("refuses empty names, unknown keys and options that are not an object", () => {
    for (const entry of ["", [""], ["score", 3], { name: "" }, { name: "score", extra: 1 }, { name: "score", options: [] }, 7, null]) {
      expect(pluginEntrySchema.safeParse(entry).success).toBe(false);
    }
  });
});
