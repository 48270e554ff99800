import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const CONDITIONS = ["import", "node", "default"];

function pickTarget(target: unknown): string | undefined {
  if (typeof target === "string") return target;
  if (Array.isArray(target)) {
    for (const entry of target) {
      const picked = pickTarget(entry);
      if (picked) return picked;
    }
    return undefined;
  }
  if (target && typeof target === "object") {
    const record = target as Record<string, unknown>;
    for (const condition of CONDITIONS) {
      if (condition in record) {
        const picked = pickTarget(record[condition]);
        if (picked) return picked;
      }
    }
  }
  return undefined;
}

/**
 * The file an ESM `import(name)` would load if it ran in `baseDir`: the nearest
 * `node_modules/<name>` up the tree, entered through its `exports` (conditions import,
 * node, default), else `module`/`main`. `require.resolve` cannot do this for packages
 * that only export an `import` condition, and a bare `import(name)` would search from
 * df's own folder instead of the config's.
 */
export function resolvePackageEntry(name: string, baseDir: string): string | undefined {
  for (let dir = resolve(baseDir); ; dir = dirname(dir)) {
    const packageDir = join(dir, "node_modules", name);
    const manifestPath = join(packageDir, "package.json");
    if (existsSync(manifestPath)) {
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
        exports?: unknown;
        module?: string;
        main?: string;
      };
      let entry: string | undefined;
      if (manifest.exports !== undefined) {
        const exportsField = manifest.exports;
        const root =
          exportsField && typeof exportsField === "object" && !Array.isArray(exportsField) && Object.keys(exportsField).some((k) => k.startsWith("."))
            ? (exportsField as Record<string, unknown>)["."]
            : exportsField;
        entry = pickTarget(root);
      }
      entry ??= manifest.module ?? manifest.main ?? "index.js";
      return resolve(packageDir, entry);
    }
    if (dirname(dir) === dir) return undefined;
  }
}
