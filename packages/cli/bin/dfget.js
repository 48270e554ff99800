#!/usr/bin/env node
import { dfget } from "../dist/bundle/dfget.mjs";

process.exitCode = await dfget(process.argv);
