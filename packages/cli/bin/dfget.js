#!/usr/bin/env node
// Loads the bundled dfget through a V8 code cache: Node 20 has no compile cache of its
// own, and a short-lived CLI spends much of its life compiling. The cache is checked
// by V8 (a changed bundle or Node version is simply recompiled) and rewritten then.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const bundle = fileURLToPath(new URL("../dist/bundle/dfget.cjs", import.meta.url));
const cacheFiles = [`${bundle}.v8cache`, join(tmpdir(), "df-v8-cache", `${process.version}-dfget.v8cache`)];
let cachedData;
for (const file of cacheFiles) {
  try {
    cachedData = readFileSync(file);
    break;
  } catch {
    // No cache yet, or not readable here: compile from source.
  }
}
const script = new vm.Script(Module.wrap(readFileSync(bundle, "utf8")), {
  filename: bundle,
  cachedData,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
process.exitCode = await module.exports.dfget(process.argv);
if (cachedData === undefined || script.cachedDataRejected) {
  const data = script.createCachedData();
  for (const file of cacheFiles) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, data);
      renameSync(temporary, file);
      break;
    } catch {
      // A read-only install: try the next place.
    }
  }
}
