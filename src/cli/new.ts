// `wasmforge new NAME`: scaffolds a module project (AssemblyScript → Extism plugin) that builds with
// npm alone and comes with a wasmforge.toml serving its build output. The project's files are the
// ones in templates/new/ (shipped in the package), with {{name}}, {{wasm}}, {{dir}} and
// {{assemblyscript}} filled in; assembly/pdk.ts is the PDK WasmForge's own example plugins use.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { log } from "../core/log.js";

export interface NewOptions {
  dir?: string;
}

/** Lowercase because it names the npm package; the .wasm file and the module share it. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TEMPLATE = join(PACKAGE_ROOT, "templates", "new");
const PDK = join(PACKAGE_ROOT, "modules", "extism", "pdk.ts");

export interface ScaffoldFile {
  path: string;
  content: string;
}

export function wasmPath(name: string): string {
  return `build/${name}.wasm`;
}

/** The files of a new project named `name`, to be created in `dir`. */
export function scaffoldFiles(name: string, dir: string): ScaffoldFile[] {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { devDependencies?: Record<string, string> };
  // The AssemblyScript WasmForge's own plugins are built with.
  const values: Record<string, string> = { name, wasm: wasmPath(name), dir, assemblyscript: (pkg.devDependencies?.assemblyscript ?? "0.28.20").replace(/^[\^~]/, "") };
  const fill = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
  const files = templateFiles(TEMPLATE).map((path) => ({
    // npm leaves .gitignore out of packages, so the template ships it as gitignore.
    path: path === "gitignore" ? ".gitignore" : path,
    content: fill(readFileSync(join(TEMPLATE, path), "utf8")),
  }));
  return [...files, { path: "assembly/pdk.ts", content: readFileSync(PDK, "utf8") }];
}

function templateFiles(root: string, under = ""): string[] {
  return readdirSync(join(root, under), { withFileTypes: true }).flatMap((entry) => {
    const path = under ? `${under}/${entry.name}` : entry.name;
    return entry.isDirectory() ? templateFiles(root, path) : [path];
  });
}

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
