// The import rules a linter here cannot check (issue 13): no import cycles inside a
// package's source, type-only imports included (they still tie two files' designs
// together); no service package importing another service; plugins depending on the
// contracts (@df/interface) and not on the services' kit; and the contracts' main entry
// loading no dependency at run time. Tests and generated code are left out. Prints each
// problem with its files and exits 1 when there is one.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SERVICES = ["@df/daemon", "@df/scheduler", "@df/manager"];
/** What plugins may not import: a plugin is written against the contracts alone. */
const SERVICE_ONLY = ["@df/service-kit", ...SERVICES];
/** Packages the contracts' main entry may load only as types (its `/zod` subpath may load zod). */
const HEAVY = ["zod", "yaml", "tsyringe", "reflect-metadata"];

/** Specifiers of imports that stay at run time: not `import type`, not `export type`. */
export function runtimeSpecifiersOf(text) {
  const found = [];
  for (const match of text.matchAll(/\b(import|export)\s+(type\s+)?[^'"`;]*?\bfrom\s*["']([^"']+)["']/g)) if (!match[2]) found.push(match[3]);
  for (const match of text.matchAll(/\bimport\s*["']([^"']+)["']/g)) found.push(match[1]);
  for (const match of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(match[1]);
  return found;
}

/** Problems of the contracts package: a heavy package reached at run time from `entry`. */
export function checkLightEntry(entry, label) {
  const problems = [];
  const seen = new Set();
  const walk = (file, via) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of runtimeSpecifiersOf(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) {
        walk(resolve(dirname(file), specifier).replace(/\.js$/, ".ts"), [...via, file]);
      } else if (HEAVY.some((heavy) => specifier === heavy || specifier.startsWith(`${heavy}/`))) {
        problems.push(`${label} loads ${specifier} at run time (${[...via, file].map((f) => f.split("/src/")[1]).join(" → ")}): keep it to types, or move it to @df/interface/zod or @df/service-kit`);
      }
    }
  };
  walk(entry, []);
  return problems;
}

/** Relative and package specifiers of every import, export-from and dynamic import in `text`. */
export function specifiersOf(text) {
  const found = [];
  const patterns = [/\b(?:import|export)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\(\s*["']([^"']+)["']\s*\)/g];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** Elementary cycles' representatives: one cycle per strongly connected component of more than one file (or a self-import). */
export function findCycles(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (node) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), indices.get(next)));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) components.push(component);
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return components.map((component) => pathWithin(graph, new Set(component)));
}

/** One cycle through a strongly connected component, as a list of files ending where it starts. */
function pathWithin(graph, members) {
  const start = [...members].sort()[0];
  const seen = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at = node; at !== start; at = seen.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!seen.has(next)) {
        seen.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

function sourceFiles(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "gen" && name !== "node_modules") files.push(...sourceFiles(path));
    } else if (/\.(ts|mts)$/.test(name) && !/\.(test|d)\.m?ts$/.test(name)) {
      files.push(path);
    }
  }
  return files;
}

/** Problems in the packages under `root` (folders `packages/*` and `plugins/*` with a `src`). */
export function checkImports(root) {
  const problems = [];
  for (const group of ["packages", "plugins"]) {
    const groupDir = join(root, group);
    for (const name of readdirSync(groupDir)) {
      const src = join(groupDir, name, "src");
      let manifest;
      try {
        statSync(src);
        manifest = JSON.parse(readFileSync(join(groupDir, name, "package.json"), "utf8"));
      } catch {
        continue;
      }
      const files = sourceFiles(src).filter((file) => !file.includes(`${join(src, "test-support")}`));
      const graph = new Map(files.map((file) => [file, new Set()]));
      for (const file of files) {
        for (const specifier of specifiersOf(readFileSync(file, "utf8"))) {
          if (specifier.startsWith(".")) {
            const target = resolve(dirname(file), specifier).replace(/\.m?js$/, (ext) => (ext === ".mjs" ? ".mts" : ".ts"));
            if (graph.has(target)) graph.get(file).add(target);
          } else if (group === "plugins" && SERVICE_ONLY.some((pkg) => specifier === pkg || specifier.startsWith(`${pkg}/`))) {
            problems.push(`${relative(root, file)} imports ${specifier}: a plugin depends on @df/interface only (the services' kit is for services)`);
          } else if (SERVICES.includes(manifest.name) && SERVICES.some((service) => service !== manifest.name && (specifier === service || specifier.startsWith(`${service}/`)))) {
            problems.push(`${relative(root, file)} imports ${specifier}: a service package must not import another service`);
          }
        }
      }
      if (manifest.name === "@df/interface") problems.push(...checkLightEntry(join(src, "index.ts"), "@df/interface"));
      for (const cycle of findCycles(graph)) {
        problems.push(`import cycle in ${manifest.name}: ${cycle.map((file) => relative(src, file)).join(" → ")}`);
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const problems = checkImports(root);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`\n${problems.length} import problem(s). Move shared types into a file both sides import, or pass the dependency in.`);
    process.exit(1);
  }
  console.log("imports: no cycles, no service importing another service, plugins on the contracts only, @df/interface light");
}
