// Turns a config into the set of modules and tools being served: bytes → checks → compile →
// discovery (→ for plugins that describe their own tools, asking them, in a worker). A module that
// fails is reported and left out; the rest still serve.

import { sourceOrigin, type Config, type ModuleSpec } from "../config/load.js";
import { describePlugin, type RunExport } from "../discovery/describing.js";
import { discoverComponent } from "../discovery/component.js";
import { discoverTools } from "../discovery/index.js";
import type { Discovery, ToolDef } from "../discovery/types.js";
import { readComponentInfo, type ComponentInfo } from "../wasm/component.js";
import { binaryKind, readWasmInfo, type WasmInfo } from "../wasm/reader.js";
import { sha256Hex } from "../core/hash.js";
import { log } from "../core/log.js";
import { WorkerPool } from "../runtime/pool.js";
import { prepareModule, type PreparedModule } from "../runtime/prepare.js";
import { valueText, type LoadOptions } from "../runtime/protocol.js";
import { DEFAULT_MAX_SIZE_MB } from "../sources/cache.js";
import { loadModuleBytes } from "../sources/index.js";

export interface LoadedModule {
  spec: ModuleSpec;
  /** Identity of this exact version and its limits; changes whenever a reload must recompile. */
  key: string;
  sha256: string;
  origin: string;
  /** The compiled module; for a component, its largest core module (all of them are in options.component). */
  module: WebAssembly.Module;
  /** What the binary holds: a core module's exports and imports, or a component's world. */
  info: WasmInfo | ComponentInfo;
  discovery: Discovery;
  options: LoadOptions;
  /** A large module's metered form, made after it loaded (see runtime/prepare.ts). */
  metered?: Promise<PreparedModule | undefined>;
}

export interface ModuleFailure {
  module: string;
  origin: string;
  error: string;
}

export interface ServedTool {
  tool: ToolDef;
  module: LoadedModule;
}

export interface Catalog {
  modules: LoadedModule[];
  /** Modules that did not load, and tools left out because their name clashed. */
  failures: ModuleFailure[];
  /** Only the modules that did not load: what assembling the catalog again starts from. */
  loadFailures: ModuleFailure[];
  tools: Map<string, ServedTool>;
}

/**
 * `pool` runs the load-time calls of plugins that describe their own tools; a module that loads
 * stays registered in it. Without one, a one-worker pool is made for those calls and closed after.
 */
export interface LoadResult {
  modules: LoadedModule[];
  failures: ModuleFailure[];
}

/** Modules still loading (downloading, mostly) when the wait ended, and what they will come to. */
export interface StillLoading {
  specs: ModuleSpec[];
  done: Promise<LoadResult>;
}

export async function buildCatalog(config: Config, previous?: Catalog, pool?: WorkerPool): Promise<Catalog> {
  const { modules, failures } = await loadModules(config, previous, pool);
  return assembleCatalog(modules, failures);
}

/** Loads every module of the config, in parallel; unchanged modules are taken from `previous`. */
export async function loadModules(config: Config, previous?: Catalog, pool?: WorkerPool): Promise<LoadResult> {
  let own: WorkerPool | undefined;
  const describer = () => pool ?? (own ??= new WorkerPool(1));
  const results = await Promise.all(config.modules.map((spec) => loadModule(spec, config, previous, describer)));
  await own?.close();
  return split(results);
}

/**
 * Loads every module of the config in parallel, but waits at most `waitMs` for them: what has
 * loaded by then is returned, and the rest (slow downloads) keep loading in `stillLoading`.
 */
export async function loadModulesWaiting(config: Config, previous: Catalog | undefined, pool: WorkerPool, waitMs: number): Promise<LoadResult & { stillLoading?: StillLoading }> {
  const settled = new Map<number, LoadedModule | ModuleFailure>();
  const loads = config.modules.map((spec, i) => loadModule(spec, config, previous, () => pool).then((r) => void settled.set(i, r)));
  // Local files are always waited for; only downloads may be left to join later.
  await Promise.all(loads.filter((_, i) => config.modules[i]!.source.kind === "local"));
  if (Number.isFinite(waitMs)) {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([Promise.all(loads), waited]);
    clearTimeout(timer);
  } else {
    await Promise.all(loads);
  }
  // In config order: the first module to name a tool keeps it.
  const ready = split(config.modules.map((_, i) => settled.get(i)).filter((r) => r !== undefined));
  const later = config.modules.map((_, i) => i).filter((i) => !settled.has(i));
  if (later.length === 0) return ready;
  const done = Promise.all(later.map((i) => loads[i]!)).then(() => split(later.map((i) => settled.get(i)!)));
  return { ...ready, stillLoading: { specs: later.map((i) => config.modules[i]!), done } };
}

function split(results: (LoadedModule | ModuleFailure)[]): LoadResult {
  const result: LoadResult = { modules: [], failures: [] };
  for (const loaded of results) {
    if ("error" in loaded) result.failures.push(loaded);
    else result.modules.push(loaded);
  }
  return result;
}

/** First module in the list keeps a clashing name; the clash is reported with both modules. */
export function assembleCatalog(modules: LoadedModule[], loadFailures: ModuleFailure[]): Catalog {
  const failures = [...loadFailures];
  const tools = new Map<string, ServedTool>();
  for (const module of modules) {
    for (const tool of module.discovery.tools) {
      const existing = tools.get(tool.name);
      if (existing) {
        failures.push({
          module: module.spec.name,
          origin: module.origin,
          error:
            `tool name "${tool.name}" (export "${tool.function}") clashes with module "${existing.module.spec.name}"; ` +
            `rename one, e.g. [[modules.tools]] function_name = "${tool.function}", name = "${module.spec.name}_${tool.function}" in module "${module.spec.name}"`,
        });
        continue;
      }
      tools.set(tool.name, { tool, module });
    }
  }
  return { modules, failures, loadFailures, tools };
}

async function loadModule(spec: ModuleSpec, config: Config, previous: Catalog | undefined, describer: () => WorkerPool): Promise<LoadedModule | ModuleFailure> {
  const origin = sourceOrigin(spec.source);
  try {
    const { bytes, sha256, origin: where } = await loadModuleBytes(spec, config);
    const key = moduleKey(spec, sha256, config);
    const reused = previous?.modules.find((m) => m.key === key);
    if (reused) return { ...reused, spec };
    const loaded = await compileModule(spec, bytes, sha256, where, key, config);
    return loaded.discovery.interface ? await describeModule(loaded, describer()) : loaded;
  } catch (err) {
    return { module: spec.name, origin, error: (err as Error).message };
  }
}

/**
 * Asks a plugin for its tools (and prompts and resources). Plugin code never runs on this thread:
 * the calls go through the worker pool, with the module's deadline and limits.
 */
async function describeModule(loaded: LoadedModule, pool: WorkerPool): Promise<LoadedModule> {
  pool.register(loaded.key, loaded.module, loaded.options);
  try {
    return await describeIn(pool, loaded);
  } catch (err) {
    pool.unregister(loaded.key);
    throw err;
  }
}

/**
 * Asks a plugin that is being served for its tools, prompts and resources again (it announced that
 * they changed), as a reload of that one module would. It stays registered in the pool either way.
 */
export function describeAgain(module: LoadedModule, pool: WorkerPool): Promise<LoadedModule> {
  if (!("memories" in module.info)) return Promise.reject(new Error("only Extism plugins describe their own tools"));
  return describeIn(pool, { ...module, discovery: discoverTools(module.spec, module.info) });
}

async function describeIn(pool: WorkerPool, loaded: LoadedModule): Promise<LoadedModule> {
  const { key, spec } = loaded;
  const run: RunExport = async (fn, input) => {
    const outcome = await pool.call({
      key,
      fn,
      shape: { pattern: "extism" },
      input: { kind: "text", text: input },
      timeoutMs: spec.timeoutMs,
      onLog: (level, message) => log[level](`[${spec.name}] ${message}`),
    });
    if (!outcome.ok) throw new Error(`${fn} failed: ${outcome.error}`);
    return valueText(outcome.value);
  };
  if (!("memories" in loaded.info)) throw new Error("only Extism plugins describe their own tools");
  return { ...loaded, discovery: await describePlugin(spec, loaded.info, loaded.discovery, run) };
}

export async function compileModule(
  spec: ModuleSpec,
  bytes: Uint8Array,
  sha256: string,
  origin: string,
  key: string,
  config: Config,
): Promise<LoadedModule> {
  if (binaryKind(bytes) === "component") return compileComponent(spec, bytes, sha256, origin, key, config);
  let info: WasmInfo;
  try {
    info = readWasmInfo(bytes);
  } catch (err) {
    throw new Error(`not a valid WebAssembly module: ${(err as Error).message}`);
  }
  const discovery = discoverTools(spec, info);
  const { module, options, metered } = await prepareModule(spec, bytes, info, discovery, {
    maxOutputBytes: config.server.max_output_mb * 1024 * 1024,
    cacheDir: config.cache.directory,
  });
  return { spec, key, sha256, origin, module, info, discovery, options, metered };
}

/**
 * A WebAssembly component (WASI 0.2): its tools come from its WIT world, read from the binary; its
 * runtime (transpiling, the WASI host) is loaded only now that a component is configured.
 */
async function compileComponent(spec: ModuleSpec, bytes: Uint8Array, sha256: string, origin: string, key: string, config: Config): Promise<LoadedModule> {
  let info: ComponentInfo;
  try {
    info = readComponentInfo(bytes);
  } catch (err) {
    throw new Error(`not a valid WebAssembly component: ${(err as Error).message}`);
  }
  const discovery = discoverComponent(spec, info);
  const { prepareComponent } = await import("../runtime/component-prepare.js");
  const cache = { directory: config.cache.directory, maxSizeMb: config.cache.maxSizeMb ?? DEFAULT_MAX_SIZE_MB };
  const { module, options } = await prepareComponent(spec, bytes, sha256, info, cache, config.server.max_output_mb * 1024 * 1024);
  return { spec, key, sha256, origin, module, info, discovery, options };
}

/** Changes whenever the bytes or anything that shapes how they are served changes. */
function moduleKey(spec: ModuleSpec, sha256: string, config: Config): string {
  const shaping = JSON.stringify([spec.tools, spec.toolPrefix, spec.hiddenTools, spec.maxMemoryMb, spec.state, spec.allowedHosts, spec.allowedPaths, spec.pluginConfig, spec.description, spec.timeoutMs, config.server.max_output_mb]);
  const digest = sha256Hex(shaping).slice(0, 8);
  return `${spec.name}@${sha256.slice(0, 12)}.${digest}`;
}
