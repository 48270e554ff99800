#!/usr/bin/env node
import { dfget } from "../dist/index.js";

process.exitCode = await dfget(process.argv);
