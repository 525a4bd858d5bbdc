// Gets a module ready to run: its imports checked against what WasmForge provides, its memory
// capped, its code metered (src/wasm/meter.ts) so a call can be stopped from inside, the state a
// fresh instance must be put back to exported, and compiled once. The compiled module and its
// LoadOptions are what the pool posts to every worker and what the protocol thread runs.
//
// Metering a small module takes well under a millisecond and is done here. A large one (over
// METER_INLINE_BYTES) is served unmetered — from workers only — until its metered form is ready,
// made in the background and kept in the cache, so neither a start nor a restart waits for it.

import type { ModuleSpec } from "../config/load.js";
import { sha256Hex } from "../core/hash.js";
import { writeLog } from "../core/log.js";
import { STRING_ALLOCATORS } from "../discovery/raw.js";
import type { Discovery } from "../discovery/types.js";
import { readDerived, writeDerived } from "../sources/cache.js";
import { MeterError, meterModule, FUEL_EXPORT } from "../wasm/meter.js";
import { readWasmInfo, type WasmInfo } from "../wasm/reader.js";
import { capMemory, exposeResettableState, pagesForMegabytes } from "../wasm/rewrite.js";
import { planImports } from "./imports.js";
import type { ImportPlan, LoadOptions } from "./protocol.js";

export interface PreparedModule {
  module: WebAssembly.Module;
  options: LoadOptions;
  /** A large module's metered form, ready later (undefined when it cannot be metered). */
  metered?: Promise<PreparedModule | undefined>;
}

export interface PrepareSettings {
  maxOutputBytes: number;
  /** Where a large module's metered form is kept between starts. */
  cacheDir: string;
}

/** Modules up to this size are metered as they load; larger ones in the background. */
export const METER_INLINE_BYTES = 1024 * 1024;
/** Changes whenever the meter's rewrite changes, so a cached metered form is never stale. */
const METER_VERSION = "m1";

export async function prepareModule(spec: ModuleSpec, bytes: Uint8Array, info: WasmInfo, discovery: Discovery, settings: PrepareSettings): Promise<PreparedModule> {
  const maxPages = pagesForMegabytes(spec.maxMemoryMb);
  const tooBig = info.memories.find((m) => m.minPages > maxPages);
  if (tooBig) {
    throw new Error(`needs at least ${Math.ceil((tooBig.minPages * 65536) / 1048576)} MB of memory, over its ${spec.maxMemoryMb} MB limit (max_memory_mb)`);
  }
  const imports = planImports(discovery.abi, info.imports, info.memories.find((m) => m.imported)?.minPages ?? 1);
  const state = spec.state ?? (discovery.abi === "extism" ? "keep" : "fresh");
  const capped = capMemory(bytes, maxPages);
  const base = { spec, discovery, imports, state, maxPages, settings };
  if (capped.length <= METER_INLINE_BYTES) {
    const metered = meterOrNot(spec, capped);
    return compile(base, metered ?? capped, metered !== undefined);
  }
  const prepared = await compile(base, capped, false);
  return { ...prepared, metered: meterLater(base, capped) };
}

interface Base {
  spec: ModuleSpec;
  discovery: Discovery;
  imports: ImportPlan;
  state: "fresh" | "keep";
  maxPages: number;
  settings: PrepareSettings;
}

async function compile(base: Base, bytes: Uint8Array, metered: boolean): Promise<PreparedModule> {
  const { spec, discovery, imports, state, maxPages, settings } = base;
  const info = readWasmInfo(bytes);
  // A fresh plain instance is put back to its first state after each call rather than built anew:
  // that needs its mutable globals and tables exported.
  const exposed = discovery.abi === "raw" && state === "fresh" && !imports.importedMemory ? exposeResettableState(bytes, info) : undefined;
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile((exposed?.bytes ?? bytes) as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new Error(`not a valid WebAssembly module: ${(err as Error).message}`);
  }
  const options: LoadOptions = {
    abi: discovery.abi,
    state,
    resettable: exposed && { globals: exposed.globals, tables: exposed.tables },
    scratchPages: needsScratch(discovery, info) ? 1 : 0,
    maxMemoryBytes: maxPages * 65536,
    maxOutputBytes: settings.maxOutputBytes,
    imports,
    metered: metered ? { fuelExport: FUEL_EXPORT } : undefined,
    extism:
      discovery.abi === "extism"
        ? { allowedHosts: spec.allowedHosts, allowedPaths: spec.allowedPaths, config: spec.pluginConfig }
        : undefined,
  };
  return { module, options };
}

/** The metered bytes, or undefined (the module then runs in workers only, as unmetered code must). */
function meterOrNot(spec: ModuleSpec, bytes: Uint8Array): Uint8Array | undefined {
  try {
    return meterModule(bytes).bytes;
  } catch (err) {
    if (!(err instanceof MeterError)) throw err;
    writeLog("debug", `module "${spec.name}": ${err.message}; its calls run in workers only`);
    return undefined;
  }
}

/** A large module's metered form: from the cache, else made off the start path and kept. */
async function meterLater(base: Base, capped: Uint8Array): Promise<PreparedModule | undefined> {
  await new Promise((resolve) => setImmediate(resolve));
  const { settings, spec } = base;
  const name = `${sha256Hex(capped)}.${METER_VERSION}.wasm`;
  let metered = await readDerived(settings.cacheDir, name, capped.length * 4);
  if (!metered) {
    metered = meterOrNot(spec, capped);
    if (!metered) return undefined;
    await writeDerived(settings.cacheDir, name, metered);
  }
  try {
    return await compile(base, metered, true);
  } catch (err) {
    writeLog("warn", `module "${spec.name}": its metered form did not compile (${(err as Error).message}); its calls run in workers only`);
    return undefined;
  }
}

/** String tools of a module without an allocator get their bytes in pages grown for the purpose. */
function needsScratch(discovery: Discovery, info: WasmInfo): boolean {
  const stringTools = discovery.tools.some((t) => t.shape.pattern === "ptr_len_to_i32" || t.shape.pattern === "ptr_len_to_string");
  return stringTools && !info.functions.some((f) => STRING_ALLOCATORS.includes(f.name));
}
