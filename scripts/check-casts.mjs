// No double casts in shipped code (issue 13): `as unknown as T` tells the compiler to
// believe anything, so outside tests a value is checked or narrowed instead. Scans the
// source of every package and plugin (`packages/*/src`, `plugins/*/src`), leaving out
// tests (`*.test.ts`), `test-support/` folders and the generated code of @df/rpc
// (`packages/rpc/src/gen/`). Prints each cast as file:line and exits 1 when there is one.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const CAST = /\bas\s+unknown\s+as\b/g;

/** 1-based line numbers of each `as unknown as` in `text` (also when split over lines). */
export function castLines(text) {
  const lines = [];
  for (const match of text.matchAll(CAST)) lines.push(text.slice(0, match.index).split("\n").length);
  return lines;
}

function sourceFiles(dir, skip) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "node_modules" && name !== "test-support" && !skip(path)) files.push(...sourceFiles(path, skip));
    } else if (/\.m?ts$/.test(name) && !/\.test\.m?ts$/.test(name)) {
      files.push(path);
    }
  }
  return files;
}

/** Every `as unknown as` under `root`'s packages and plugins, as `file:line: text`. */
export function checkCasts(root) {
  const generated = join(root, "packages", "rpc", "src", "gen");
  const skip = (path) => path === generated;
  const problems = [];
  for (const group of ["packages", "plugins"]) {
    const groupDir = join(root, group);
    let names;
    try {
      names = readdirSync(groupDir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const src = join(groupDir, name, "src");
      try {
        if (!statSync(src).isDirectory()) continue;
      } catch {
        continue;
      }
      for (const file of sourceFiles(src, skip)) {
        const text = readFileSync(file, "utf8");
        const lines = text.split("\n");
        for (const line of castLines(text)) {
          problems.push(`${relative(root, file).split(sep).join("/")}:${line}: ${lines[line - 1].trim()}`);
        }
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const problems = checkCasts(root);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`\n${problems.length} double cast(s) (as unknown as). Check or narrow the value instead (a type guard, a schema, a typed helper).`);
    process.exit(1);
  }
  console.log("casts: no `as unknown as` outside tests");
}
