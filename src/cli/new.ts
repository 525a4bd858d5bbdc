// `wasmforge new NAME`: scaffolds a module project (AssemblyScript → Extism plugin) that builds with
// npm alone and comes with a wasmforge.toml serving its build output.

import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { log } from "../core/log.js";
import { scaffoldFiles, wasmPath } from "./new-templates.js";

export interface NewOptions {
  dir?: string;
}

/** Lowercase because it names the npm package; the .wasm file and the module share it. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function newProject(name: string, options: NewOptions): number {
  if (!PROJECT_NAME.test(name)) {
    log.error(`project name "${name}" is not allowed: use 1-64 lowercase letters, digits, "-" or "_" (it names the npm package and the .wasm file)`);
    return 1;
  }
  const dir = resolve(options.dir ?? name);
  if (!isEmptyOrMissing(dir)) {
    log.error(`${dir} already exists and is not empty; pick another NAME, or --dir DIR for an empty or new directory`);
    return 1;
  }
  const files = scaffoldFiles(name, dir);
  for (const file of files) {
    const path = join(dir, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content, { flag: "wx" });
  }

  const cd = relative(process.cwd(), dir) || ".";
  process.stdout.write(
    [
      `Created ${dir}: ${files.map((f) => f.path).join(", ")}`,
      "",
      "Next (AssemblyScript installs from npm; the build takes a few seconds):",
      `  cd ${cd.includes(" ") ? JSON.stringify(cd) : cd}`,
      "  npm install",
      `  npm run build                          # -> ${wasmPath(name)}`,
      `  wasmforge call greet '{"name":"Ada"}'  # Hello, Ada!`,
      "",
      "Then: npm run build:watch in one terminal, wasmforge serve in another (or from your MCP client);",
      "every rebuild reloads. See README.md.",
      "",
    ].join("\n"),
  );
  return 0;
}

function isEmptyOrMissing(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return true;
    if (code === "ENOTDIR") return false;
    throw err;
  }
}
