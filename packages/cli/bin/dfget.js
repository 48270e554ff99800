#!/usr/bin/env node
"use strict";
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose (see package.json here) */
// CommonJS (see package.json here): dfget's start-up is part of every download's time.
require("./run-bundled.js")
  .runBundled("dfget", "main")
  .then((code) => (process.exitCode = code));
