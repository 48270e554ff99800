// Build step (`pnpm build`, after tsc): makes the packaged PGlite template, a migrated
// empty database that new embedded databases are unpacked from.
import { rm } from "node:fs/promises";
import { openDatabase } from "./database.js";
import { PGLITE_TEMPLATE } from "./template.js";

await rm(PGLITE_TEMPLATE, { force: true });
const database = await openDatabase({ url: "pglite:", memoryTemplateFile: PGLITE_TEMPLATE });
await database.close();
