#!/usr/bin/env node
import { runBundled } from "./run-bundled.js";

process.exitCode = await runBundled("dfget", "dfget");
