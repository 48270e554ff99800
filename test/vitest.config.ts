import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../vitest.shared.ts";

// Multi-process tests run against the built packages (dist), as a user would; lint/
// checks rules of the whole tree that no package owns.
export default mergeConfig(
  shared,
  defineConfig({ test: { include: ["e2e/**/*.test.ts", "lint/**/*.test.ts"], testTimeout: 120_000 } }),
);
