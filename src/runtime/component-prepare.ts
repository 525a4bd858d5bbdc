// Gets a component ready to run: its imports checked against the WASI 0.2 WasmForge provides, its
// transpiled form taken from the cache (or transpiled once, in a one-shot worker, and cached), its
// core modules memory-capped and compiled. The compiled core modules and the bindings' URL are
// what the pool posts to every worker (LoadOptions.component).
//
// Loaded only when a config names a component: a config without one never imports this file,
// jco-transpile or preview2-shim.

import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ModuleSpec } from "../config/load.js";
import { sha256Hex } from "../core/hash.js";
import { log } from "../core/log.js";
import { stripCustomSections, type ComponentInfo } from "../wasm/component.js";
import { readWasmInfo } from "../wasm/reader.js";
import { capMemory, pagesForMegabytes } from "../wasm/rewrite.js";
import { readEntry, writeEntry, type TranspiledEntry } from "./component-cache.js";
import type { TranspileAnswer, TranspileRequest } from "./component-transpile.js";
import { checkComponentImports } from "./imports.js";
import type { LoadOptions } from "./protocol.js";

/** Options that change the generated bindings, and so belong in the cache key. */
const TRANSPILE_OPTIONS = {
  name: "component",
  // instantiate(getCoreModule, imports): WasmForge supplies its own WASI and compiles the core modules itself.
  instantiation: "async",
  emitTypescriptDeclarations: false,
  // A function's result err is thrown as the payload itself (told from traps in component-values.ts).
  noComponentErrorWrapping: true,
  // Every core module stays a file of its own, never inlined as base64.
  base64Cutoff: 0,
} satisfies TranspileRequest["options"];

/** A transpile that takes longer than this is given up (a 12 MB component takes a few seconds). */
const TRANSPILE_TIMEOUT_MS = 120_000;
const TRANSPILE_WORKER = new URL("./component-transpile.js", import.meta.url);
const require = createRequire(import.meta.url);

export interface PreparedComponent {
  /** The component's largest core module (its own code); every one is in options.component.modules. */
  module: WebAssembly.Module;
  options: LoadOptions;
}

/** Transpiles of this process, by cache entry: two modules naming one component transpile it once. */
const pending = new Map<string, Promise<TranspiledEntry>>();

export async function prepareComponent(
  spec: ModuleSpec,
  bytes: Uint8Array,
  sha256: string,
  world: ComponentInfo,
  cache: { directory: string; maxSizeMb: number },
  maxOutputBytes: number,
): Promise<PreparedComponent> {
  checkComponentImports(world.imports);
  const jcoTranspile = runtimeVersions();
  const optionsKey = sha256Hex(JSON.stringify({ jcoTranspile, TRANSPILE_OPTIONS })).slice(0, 12);
  const key = `${cache.directory}\0${sha256}-${optionsKey}`;
  let entry = pending.get(key);
  if (!entry) {
    entry = cachedOrTranspiled(spec, bytes, sha256, optionsKey, jcoTranspile, cache);
    pending.set(key, entry);
    void entry.finally(() => pending.delete(key)).catch(() => undefined);
  }
  const transpiled = await entry;
  const maxPages = pagesForMegabytes(spec.maxMemoryMb);
  const modules: Record<string, WebAssembly.Module> = {};
  let largest: { module: WebAssembly.Module; size: number } | undefined;
  for (const [name, core] of Object.entries(transpiled.coreModules)) {
    const module = await compileCore(name, core, maxPages, spec.maxMemoryMb);
    modules[name] = module;
    if (!largest || core.length > largest.size) largest = { module, size: core.length };
  }
  if (!largest) throw new Error("the transpiled component has no core module");
  return {
    module: largest.module,
    options: {
      abi: "component",
      // Instantiating a component costs tens of milliseconds: each worker keeps its instance by default.
      state: spec.state ?? "keep",
      scratchPages: 0,
      maxMemoryBytes: maxPages * 65536,
      maxOutputBytes,
      imports: { wasiFunctions: [], assemblyScriptEnv: [] },
      component: {
        entryUrl: pathToFileURL(join(transpiled.dir, transpiled.manifest.entry)).href,
        modules,
        allowedPaths: spec.allowedPaths,
        allowedHosts: spec.allowedHosts,
      },
    },
  };
}

/**
 * One core module of a component as it will run: memory capped at max_memory_mb, then compiled.
 * This is the one place a core module is rewritten before compiling, as prepare.ts does for plain
 * modules (a fuel meter's rewrite belongs here too).
 */
async function compileCore(name: string, bytes: Uint8Array, maxPages: number, maxMemoryMb: number): Promise<WebAssembly.Module> {
  const tooBig = readWasmInfo(bytes).memories.find((m) => !m.imported && m.minPages > maxPages);
  if (tooBig) {
    throw new Error(`needs at least ${Math.ceil((tooBig.minPages * 65536) / 1048576)} MB of memory at start (core module ${name}), over its ${maxMemoryMb} MB limit (max_memory_mb)`);
  }
  try {
    return await WebAssembly.compile(capMemory(bytes, maxPages) as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new Error(`core module ${name} of the component does not compile: ${(err as Error).message}`);
  }
}

async function cachedOrTranspiled(
  spec: ModuleSpec,
  bytes: Uint8Array,
  sha256: string,
  optionsKey: string,
  jcoTranspile: string,
  cache: { directory: string; maxSizeMb: number },
): Promise<TranspiledEntry> {
  const hit = await readEntry(cache.directory, sha256, optionsKey);
  if (hit) {
    log.debug(`module "${spec.name}": transpiled component ${sha256.slice(0, 12)} from the cache (${hit.dir})`);
    return hit;
  }
  log.info(`module "${spec.name}": transpiling the component (${(bytes.length / 1048576).toFixed(1)} MB) with jco-transpile ${jcoTranspile}; it is cached for the next start`);
  // jco-transpile 0.15's wit-parser rejects the current package-docs format; discovery has read the docs already.
  const { files, ms } = await transpile(stripCustomSections(bytes));
  const names = Object.keys(files);
  const entry = names.find((n) => n.endsWith(".js"));
  if (!entry) throw new Error("jco-transpile produced no bindings (.js)");
  const coreModules = names.filter((n) => n.endsWith(".wasm"));
  await writeEntry(cache.directory, optionsKey, sha256, files, { jcoTranspile, entry, coreModules, transpileMs: ms }, cache.maxSizeMb);
  log.info(`module "${spec.name}": transpiled in ${ms} ms`);
  const written = await readEntry(cache.directory, sha256, optionsKey);
  if (!written) throw new Error(`the transpiled component could not be read back from ${cache.directory}`);
  return written;
}

/** Runs jco-transpile in a worker of its own, under a deadline. */
function transpile(bytes: Uint8Array): Promise<{ files: Record<string, Uint8Array>; ms: number }> {
  return new Promise((resolve, reject) => {
    const request: TranspileRequest = { bytes, options: TRANSPILE_OPTIONS };
    // stdout/stderr piped: nothing the transpiler prints may reach the protocol stream.
    const worker = new Worker(TRANSPILE_WORKER, { workerData: request, stdout: true, stderr: true });
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`transpiling took longer than ${TRANSPILE_TIMEOUT_MS / 1000} s`))), TRANSPILE_TIMEOUT_MS);
    worker.stdout.on("data", (chunk: Buffer) => log.debug(`transpiler: ${chunk.toString().trimEnd()}`));
    worker.stderr.on("data", (chunk: Buffer) => log.debug(`transpiler: ${chunk.toString().trimEnd()}`));
    worker.on("message", (answer: TranspileAnswer) =>
      finish(() => (answer.ok ? resolve({ files: answer.files, ms: answer.ms }) : reject(new Error(`jco-transpile cannot transpile it: ${answer.error}`)))),
    );
    worker.on("error", (err) => finish(() => reject(new Error(`the transpiler failed: ${err.message}`))));
    worker.on("exit", (code) => finish(() => reject(new Error(`the transpiler exited with code ${code} before answering`))));
  });
}

/**
 * jco-transpile's version (part of the cache key), checking that both optional dependencies are
 * installed, so a missing one fails at load, with what to do, rather than at the first call.
 */
function runtimeVersions(): string {
  const missing: string[] = [];
  let version = "";
  for (const name of ["@bytecodealliance/jco-transpile", "@bytecodealliance/preview2-shim"]) {
    try {
      const main = require.resolve(name);
      if (name.endsWith("jco-transpile")) version = (require(join(main, "..", "..", "package.json")) as { version: string }).version;
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `serving WebAssembly components needs ${missing.join(" and ")}, optional dependencies of WasmForge that are not installed ` +
        `(npm skips them with --omit=optional, or when they do not install on this platform); install them beside WasmForge: npm install ${missing.join(" ")}`,
    );
  }
  return version;
}
