#!/usr/bin/env node
import "reflect-metadata";
import { main } from "../dist/cli.js";

process.exitCode = await main(process.argv);
