import { defineConfig } from "vitest/config";
import { SummaryReporter } from "./scripts/summary-reporter.ts";

// The whole suite in one run: one project per workspace package, one closing summary.
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts", "plugins/*/vitest.config.ts", "examples/*/vitest.config.ts", "test/vitest.config.ts"],
    reporters: ["default", new SummaryReporter()],
  },
});
