import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Oxc (vite 8) applies legacy decorators + metadata only to files a tsconfig covers; our
// tsconfigs exclude tests, so the options are forced here for every file vitest loads.
// The "@df/source" condition makes workspace packages resolve to their src/, so tests
// never wait on a build of their dependencies.
export default defineConfig({
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  resolve: { conditions: ["@df/source"] },
  ssr: { resolve: { conditions: ["@df/source"] } },
  test: {
    include: ["src/**/*.test.ts"],
    setupFiles: [fileURLToPath(new URL("./scripts/vitest-setup.ts", import.meta.url))],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
