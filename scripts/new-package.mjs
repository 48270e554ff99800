// Writes the boilerplate of a workspace package: package.json, tsconfig.json,
// tsconfig.test.json, vitest.config.ts. Usage: node scripts/new-package.mjs <dir> <name> "<description>" [dep ...]
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";

const [dir, name, description, ...deps] = process.argv.slice(2);
if (!dir || !name || !description) {
  console.error('usage: node scripts/new-package.mjs <dir> <name> "<description>" [@df/dep ...]');
  process.exit(2);
}
const root = relative(dir, ".") || ".";
mkdirSync(join(dir, "src"), { recursive: true });
const isPrivate = name.startsWith("@df/example-") || name === "@df/test";
const workspaceDeps = deps.filter((d) => d.startsWith("@df/"));
const pkg = {
  name,
  version: "0.1.0",
  description,
  ...(isPrivate ? { private: true } : {}),
  type: "module",
  license: "Apache-2.0",
  exports: {
    ".": { "@df/source": "./src/index.ts", types: "./dist/index.d.ts", default: "./dist/index.js" },
    "./package.json": "./package.json",
  },
  types: "./dist/index.d.ts",
  files: ["dist", "src", "!src/**/*.test.ts"],
  sideEffects: false,
  scripts: {
    build: "tsc -b",
    typecheck: "tsc -p tsconfig.test.json",
    lint: "eslint src",
    test: "vitest run",
    clean: "rm -rf dist tsconfig.tsbuildinfo",
  },
  dependencies: Object.fromEntries(workspaceDeps.map((d) => [d, "workspace:*"])),
};
const write = (file, content) => {
  const path = join(dir, file);
  if (existsSync(path)) return;
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n");
};
write("package.json", pkg);
write("tsconfig.json", {
  extends: `${root}/tsconfig.base.json`,
  compilerOptions: { rootDir: "src", outDir: "dist", tsBuildInfoFile: "tsconfig.tsbuildinfo" },
  include: ["src"],
  exclude: ["src/**/*.test.ts", "src/**/test-support/**"],
  references: workspaceDeps.map((d) => ({ path: relative(dir, join("packages", d.replace("@df/", ""))) })),
});
write("tsconfig.test.json", {
  extends: "./tsconfig.json",
  compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, rootDir: "src" },
  include: ["src"],
  exclude: [],
});
write("vitest.config.ts", `export { default } from "${root}/vitest.shared.ts";\n`);
console.log(`wrote ${dir} (${name})`);
