#!/usr/bin/env node
// Builds the WebAssembly component fixtures from modules/components/ into test-modules/components/
// (or --out DIR). Kept apart from build-modules.mjs: components are built with the wasm-tools that
// @bytecodealliance/jco-transpile bundles (an optional dependency), and the JavaScript one needs
// componentize-js, which WasmForge does not depend on.
//
//   node scripts/build-components.mjs [--out DIR] [--js]
//
// kitchen, netprobe and foreign: WAT → core module (wasm-tools' parser) → the WIT world embedded
// (componentEmbed) → a component (componentNew), plus a `package-docs` section holding the WIT's
// `///` comments, as cargo-component writes it (jco's wasm-tools drops docs). Deterministic:
// test/components-build.test.ts checks the committed files match a fresh build.
//
// jsdemo (--js): JavaScript → a component with @bytecodealliance/componentize-js 0.23 (about a
// minute, 12 MB out). componentize-js is ~390 MB installed, so it is not a devDependency; install
// it for the build only: npm install --no-save @bytecodealliance/componentize-js@0.23.0
// Its output is not byte-for-byte reproducible across its versions, so the test does not rebuild it.
//
// test-modules/components/wassette/filesystem.wasm is not built here: it is wassette's own test
// component, copied as it is (see modules/components/README.md).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sources = path.join(root, "modules", "components");

export const COMPONENTS = [
  { kind: "wat", name: "kitchen", world: "kitchen", docs: true },
  { kind: "wat", name: "netprobe", world: "netprobe", docs: false },
  { kind: "wat", name: "foreign", world: "foreign", docs: false },
  { kind: "js", name: "jsdemo", world: "jsdemo" },
];

function parseArgs(argv) {
  let out = path.join(root, "test-modules", "components");
  let js = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") out = path.resolve(argv[++i] ?? "");
    else if (a.startsWith("--out=")) out = path.resolve(a.slice("--out=".length));
    else if (a === "--js") js = true;
    else throw new Error(`unknown argument: ${a} (usage: node scripts/build-components.mjs [--out DIR] [--js])`);
  }
  return { out, js };
}

async function buildWat({ name, world, docs }) {
  const { parse, componentEmbed, componentNew } = await import("@bytecodealliance/jco-transpile/wasm-tools");
  const dir = path.join(sources, name);
  const witSource = await readFile(path.join(dir, `${name}.wit`), "utf8");
  const core = await parse(await readFile(path.join(dir, `${name}.wat`), "utf8"));
  const embedded = await componentEmbed({ binary: core, witSource, world });
  const component = await componentNew(embedded);
  return docs ? withPackageDocs(component, packageDocsFromWit(witSource)) : component;
}

async function buildJs({ name, world }) {
  let componentize;
  try {
    ({ componentize } = await import("@bytecodealliance/componentize-js"));
  } catch {
    throw new Error("needs @bytecodealliance/componentize-js: npm install --no-save @bytecodealliance/componentize-js@0.23.0");
  }
  const dir = path.join(sources, name);
  // The WIT as text (witWorld), not a path: componentize-js 0.23's splicer runs on a preview2-shim
  // that preopens nothing, so it cannot read witPath.
  const { component } = await componentize({
    sourcePath: path.join(dir, `${name}.js`),
    witWorld: await readFile(path.join(dir, `${name}.wit`), "utf8"),
    worldName: world,
    disableFeatures: ["random", "clocks"],
  });
  return component;
}

// ---- package-docs: wit-parser's PackageMetadata (one version byte, then JSON), from `///` comments.
// A small scanner, good enough for these WIT files. World docs are filed under "root": a component
// decodes to the world root:component/root, and wassette looks in every world.

export function packageDocsFromWit(wit) {
  const meta = { interfaces: {}, worlds: {} };
  const pkg = /^\s*package\s+([^;\s{]+)\s*;/m.exec(wit);
  if (pkg) meta.package = pkg[1];
  let pending = [];
  const stack = [];
  for (const raw of wit.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("///")) {
      pending.push(line.replace(/^\/\/\/ ?/, ""));
      continue;
    }
    const docs = pending.length ? pending.join("\n") : undefined;
    pending = [];
    let m;
    if (/^package\s+[^\s{]+\s*\{/.test(line)) {
      stack.push({ kind: "foreign" });
      continue;
    }
    if ((m = /^(interface|world)\s+([\w-]+)\s*\{/.exec(line))) {
      if (stack.at(-1)?.kind === "foreign") {
        stack.push({ kind: "skip" });
        continue;
      }
      const entry = m[1] === "interface" ? (meta.interfaces[m[2]] ??= {}) : (meta.worlds.root ??= {});
      if (docs) entry.docs = docs;
      stack.push({ kind: m[1], entry });
      continue;
    }
    if ((m = /^(record|variant|enum|flags|resource)\s+([\w-]+)\s*\{?/.exec(line))) {
      const owner = stack.at(-1);
      const typeMeta = owner?.entry ? ((owner.entry.types ??= {})[m[2]] = docs ? { docs } : {}) : {};
      if (line.endsWith("{")) stack.push({ kind: "type", meta: typeMeta });
      continue;
    }
    if (line.startsWith("}")) {
      stack.pop();
      continue;
    }
    const owner = stack.at(-1);
    if (!owner || !docs) continue;
    if (owner.kind === "type" && (m = /^%?([\w-]+)\s*[:(,]|^%?([\w-]+)\s*$/.exec(line))) {
      (owner.meta.items ??= {})[m[1] ?? m[2]] = docs;
    } else if (owner.kind === "interface" && (m = /^%?([\w-]+)\s*:\s*func\b/.exec(line))) {
      (owner.entry.funcs ??= {})[m[1]] = { docs };
    } else if (owner.kind === "world" && (m = /^export\s+%?([\w-]+)\s*:\s*func\b/.exec(line))) {
      (owner.entry.func_exports ??= {})[m[1]] = { docs };
    }
  }
  for (const group of [meta.interfaces, meta.worlds]) {
    for (const [key, value] of Object.entries(group)) {
      if (value.types) for (const [t, tv] of Object.entries(value.types)) if (!tv.docs && !tv.items) delete value.types[t];
      if (value.types && !Object.keys(value.types).length) delete value.types;
      if (!Object.keys(value).length) delete group[key];
    }
  }
  return meta;
}

function leb(v) {
  const out = [];
  do {
    let x = v & 0x7f;
    v >>>= 7;
    if (v) x |= 0x80;
    out.push(x);
  } while (v);
  return out;
}

/** Appends a top-level `package-docs` custom section (version 1) to a component. */
export function withPackageDocs(component, meta) {
  const name = new TextEncoder().encode("package-docs");
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const body = [...leb(name.length), ...name, 1, ...json];
  const section = Uint8Array.from([0, ...leb(body.length), ...body]);
  const out = new Uint8Array(component.length + section.length);
  out.set(component, 0);
  out.set(section, component.length);
  return out;
}

async function main() {
  const { out, js } = parseArgs(process.argv.slice(2));
  let failed = 0;
  for (const c of COMPONENTS) {
    if (c.kind === "js" && !js) continue;
    const dest = path.join(out, `${c.name}.wasm`);
    const started = performance.now();
    try {
      const bytes = c.kind === "wat" ? await buildWat(c) : await buildJs(c);
      await mkdir(out, { recursive: true });
      await writeFile(dest, bytes);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stderr.write(`built modules/components/${c.name} -> ${path.relative(process.cwd(), dest) || dest} (${bytes.length} bytes, ${seconds} s)\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`FAILED modules/components/${c.name}: ${err?.message ?? err}\n`);
    }
  }
  if (failed) process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
