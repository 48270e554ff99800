// Runs a bundled CLI through a V8 code cache: Node 20 has no compile cache of its own,
// and a short-lived CLI spends much of its life compiling. The cache is checked by V8
// (a changed bundle or Node version is simply recompiled) and rewritten then.
// CommonJS (see package.json here), like the bundles it loads.
"use strict";
/* global require, module, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose (see package.json here) */
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require("node:fs");
const { createRequire, Module } = require("node:module");
const { tmpdir } = require("node:os");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

/** Loads `dist/bundle/<name>.cjs`, calls its `entry(argv)` and returns the exit code. */
async function runBundled(name, entry) {
  const bundle = join(__dirname, "..", "dist", "bundle", `${name}.cjs`);
  const cacheFiles = [`${bundle}.v8cache`, join(tmpdir(), "df-v8-cache", `${process.version}-${name}.v8cache`)];
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
  const code = await module.exports[entry](process.argv);
  if (cachedData === undefined || script.cachedDataRejected) saveCache(cacheFiles, script.createCachedData());
  return code;
}

function saveCache(files, data) {
  for (const file of files) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, data);
      renameSync(temporary, file);
      return;
    } catch {
      // A read-only install: try the next place.
    }
  }
}

module.exports = { runBundled };
