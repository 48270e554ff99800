// Bundles dfget and dfcache into a few files. dfget is a short-lived process: with ~300 small
// modules (grpc-js, protobuf, our packages) Node spends more time finding and loading
// files than downloading a small file. One bundle halves its start-up (0.16 → 0.11 s),
// and CommonJS lets bin/dfget.js reuse V8's compiled code between runs (→ ~0.09 s).
//
// Each binary is bundled on its own, so that what dfget leaves out stays out: it talks
// to the daemon with @df/rpc/lite and needs nothing of grpc-js, whose loading was
// ~40 ms of its start. In a shared build grpc-js would sit in the chunk both load.
import { build } from "rolldown";

import { rm } from "node:fs/promises";

// rolldown leaves old hashed chunks behind; start from an empty folder.
await rm(new URL("../dist/bundle", import.meta.url), { recursive: true, force: true });

const GRPC_JS = /[\\/]node_modules[\\/]@grpc[\\/]grpc-js[\\/]/;

for (const [name, entry, options] of [
  [
    "dfget",
    "../dist/dfget/main.js",
    {
      treeshake: {
        // The generated clients are built at module level (makeGenericClientConstructor);
        // dfget only uses the message codecs of those modules, so neither the clients nor
        // grpc-js itself (free of side effects that dfget relies on) are kept.
        manualPureFunctions: ["makeGenericClientConstructor"],
        moduleSideEffects: (id) => (GRPC_JS.test(id) ? false : undefined),
      },
    },
  ],
  ["dfcache", "../dist/dfcache/main.js", {}],
]) {
  await build({
    input: { [name]: new URL(entry, import.meta.url).pathname },
    platform: "node",
    // The direct-download path (no daemon) is rare; it loads from node_modules as usual,
    // where @df/source-http can still find its own package.json.
    external: ["@df/source-http"],
    logLevel: "warn",
    ...options,
    output: {
      dir: new URL("../dist/bundle", import.meta.url).pathname,
      format: "cjs",
      entryFileNames: "[name].cjs",
      chunkFileNames: `${name}-[name]-[hash].cjs`,
    },
  });
}
