#!/usr/bin/env node
"use strict";
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose (see package.json here) */
// CommonJS, as dfget.js (see package.json here).
require("./run-bundled.js")
  .runBundled("dfcache", "main")
  .then((code) => (process.exitCode = code));
