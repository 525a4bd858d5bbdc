#!/usr/bin/env node
// Builds the example and fault WebAssembly modules from modules/ into
// test-modules/ (or --out DIR). Output is deterministic: building twice gives
// byte-identical files, which test/modules-build.test.ts checks.
//
//   node scripts/build-modules.mjs [--out DIR]
//
// .wat files are compiled with the `wabt` npm package (with a name section
// that includes parameter names, which WasmForge uses to tell string
// parameters from numbers). AssemblyScript plugins are compiled with the
// `assemblyscript` npm package.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const modulesDir = path.join(root, "modules");

/** Every module: source (relative to modules/) -> output (relative to the out dir). */
export const MODULES = [
  { kind: "wat", src: "example.wat", out: "example.wasm" },
  { kind: "wat", src: "text.wat", out: "text.wasm" },
  { kind: "asc", src: "extism/text-plugin", out: "text-plugin.wasm" },
  { kind: "asc", src: "extism/fail-plugin", out: "fail-plugin.wasm" },
  { kind: "wat", src: "extism/modern-plugin.wat", out: "modern-plugin.wasm" },
  { kind: "asc", src: "extism/servlet-plugin", out: "servlet-plugin.wasm" },
  { kind: "asc", src: "extism/mcp-plugin", out: "mcp-plugin.wasm" },
  { kind: "asc", src: "extism/broken-servlet", out: "broken-servlet.wasm" },
  { kind: "asc", src: "extism/ask-plugin", out: "ask-plugin.wasm" },
  { kind: "asc", src: "extism/growing-plugin", out: "growing-plugin.wasm" },
  { kind: "asc", src: "extism/rounds-plugin", out: "rounds-plugin.wasm" },
  { kind: "wat", src: "extism/unknown-host.wat", out: "unknown-host.wasm" },
  { kind: "wat", src: "faults/loop.wat", out: "faults/loop.wasm" },
  { kind: "wat", src: "faults/trap.wat", out: "faults/trap.wasm" },
  { kind: "wat", src: "faults/membomb.wat", out: "faults/membomb.wasm" },
  { kind: "wat", src: "faults/bad-strings.wat", out: "faults/bad-strings.wasm" },
  { kind: "wat", src: "faults/stdout.wat", out: "faults/stdout.wasm" },
  { kind: "wat", src: "faults/slow.wat", out: "faults/slow.wasm" },
  { kind: "wat", src: "compute.wat", out: "compute.wasm" },
];

function parseArgs(argv) {
  let out = path.join(root, "test-modules");
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") {
      const v = argv[++i];
      if (!v) throw new Error("--out needs a directory");
      out = path.resolve(v);
    } else if (a.startsWith("--out=")) {
      out = path.resolve(a.slice("--out=".length));
    } else if (a === "-h" || a === "--help") {
      process.stderr.write("usage: node scripts/build-modules.mjs [--out DIR]\n");
      process.exit(0);
    } else {
      throw new Error(`unknown argument: ${a}`);
    }
  }
  return { out };
}

const WABT_FEATURES = {
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  multi_value: true,
  bulk_memory: true,
};

let wabtPromise;
async function buildWat(srcPath) {
  wabtPromise ??= import("wabt").then((m) => m.default());
  const wabt = await wabtPromise;
  const text = await readFile(srcPath, "utf8");
  // Use the path relative to modules/ as the file name so that error messages
  // (and nothing else) depend on where the repository lives.
  const name = path.relative(modulesDir, srcPath).split(path.sep).join("/");
  const mod = wabt.parseWat(name, text, WABT_FEATURES);
  try {
    mod.resolveNames();
    mod.validate();
    const { buffer } = mod.toBinary({ write_debug_names: true, canonicalize_lebs: true, relocatable: false });
    return Buffer.from(buffer);
  } finally {
    mod.destroy();
  }
}

/**
 * Compiles the AssemblyScript plugin in srcDir (its index.ts). The shared pdk.ts supplies `abort`;
 * by default baseDir is modules/extism, where pdk.ts has the internal path "pdk". Plugins elsewhere
 * (bench/conformance/) pass the repository root as baseDir and import ../../../modules/extism/pdk.
 */
export async function buildAsc(srcDir, baseDir = path.dirname(srcDir)) {
  const { default: asc } = await import("assemblyscript/asc");
  const internal = (file) => path.relative(baseDir, file).split(path.sep).join("/");
  const entry = internal(path.join(srcDir, "index.ts"));
  const abort = `${internal(path.join(modulesDir, "extism", "pdk"))}/abort`;
  const outputs = new Map();
  let stderrText = "";
  const stderr = { write: (s) => { stderrText += String(s); return true; } };
  const { error } = await asc.main(
    [
      entry,
      "--baseDir", baseDir,
      "--outFile", "out.wasm",
      "--runtime", "stub",
      "--optimizeLevel", "2",
      "--shrinkLevel", "1",
      "--noAssert",
      "--use", `abort=${abort}`,
    ],
    {
      stdout: { write: () => true },
      stderr,
      writeFile: (filename, contents) => {
        outputs.set(filename, contents);
      },
    },
  );
  if (error) {
    throw new Error(`asc failed for ${entry}: ${error.message}\n${stderrText}`);
  }
  const wasm = outputs.get("out.wasm");
  if (!wasm) throw new Error(`asc produced no out.wasm for ${entry} (got: ${[...outputs.keys()].join(", ")})`);
  return Buffer.from(wasm);
}

async function main() {
  const { out } = parseArgs(process.argv.slice(2));
  let failed = 0;
  for (const m of MODULES) {
    const src = path.join(modulesDir, m.src);
    const dest = path.join(out, m.out);
    try {
      const bytes = m.kind === "wat" ? await buildWat(src) : await buildAsc(src);
      await mkdir(path.dirname(dest), { recursive: true });
      await writeFile(dest, bytes);
      process.stderr.write(`built ${path.join("modules", m.src)} -> ${path.relative(process.cwd(), dest) || dest} (${bytes.length} bytes)\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`FAILED ${path.join("modules", m.src)}: ${err?.message ?? err}\n`);
    }
  }
  if (failed) {
    process.stderr.write(`${failed} module(s) failed to build\n`);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
}
