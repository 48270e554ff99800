import { defineConfig } from "vitest/config";
import { SummaryReporter } from "./scripts/summary-reporter.ts";

// The whole suite in one run: one project per workspace package, one closing summary.
export default defineConfig({
  test: {
    projects: ["packages/*", "plugins/*", "examples/*", "test"],
    reporters: ["default", new SummaryReporter()],
  },
});
