// Gets a module ready to run: its imports checked against what WasmForge provides, its memory
// capped, the state a fresh instance must be put back to exported, and compiled once. The compiled
// module and its LoadOptions are what the pool posts to every worker.

import type { ModuleSpec } from "../config/load.js";
import { STRING_ALLOCATORS } from "../discovery/raw.js";
import type { Discovery } from "../discovery/types.js";
import type { WasmInfo } from "../wasm/reader.js";
import { capMemory, exposeResettableState, pagesForMegabytes } from "../wasm/rewrite.js";
import { planImports } from "./imports.js";
import type { LoadOptions } from "./protocol.js";

export interface PreparedModule {
  module: WebAssembly.Module;
  options: LoadOptions;
}

export async function prepareModule(spec: ModuleSpec, bytes: Uint8Array, info: WasmInfo, discovery: Discovery, maxOutputBytes: number): Promise<PreparedModule> {
  const maxPages = pagesForMegabytes(spec.maxMemoryMb);
  const tooBig = info.memories.find((m) => m.minPages > maxPages);
  if (tooBig) {
    throw new Error(`needs at least ${Math.ceil((tooBig.minPages * 65536) / 1048576)} MB of memory, over its ${spec.maxMemoryMb} MB limit (max_memory_mb)`);
  }
  const imports = planImports(discovery.abi, info.imports, info.memories.find((m) => m.imported)?.minPages ?? 1);
  const state = spec.state ?? (discovery.abi === "extism" ? "keep" : "fresh");
  const capped = capMemory(bytes, maxPages);
  // A fresh plain instance is put back to its first state after each call rather than built anew:
  // that needs its mutable globals and tables exported.
  const exposed = discovery.abi === "raw" && state === "fresh" && !imports.importedMemory ? exposeResettableState(capped, info) : undefined;
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile((exposed?.bytes ?? capped) as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new Error(`not a valid WebAssembly module: ${(err as Error).message}`);
  }
  const options: LoadOptions = {
    abi: discovery.abi,
    state,
    resettable: exposed && { globals: exposed.globals, tables: exposed.tables },
    scratchPages: needsScratch(discovery, info) ? 1 : 0,
    maxMemoryBytes: maxPages * 65536,
    maxOutputBytes,
    imports,
    extism:
      discovery.abi === "extism"
        ? { allowedHosts: spec.allowedHosts, allowedPaths: spec.allowedPaths, config: spec.pluginConfig }
        : undefined,
  };
  return { module, options };
}

/** String tools of a module without an allocator get their bytes in pages grown for the purpose. */
function needsScratch(discovery: Discovery, info: WasmInfo): boolean {
  const stringTools = discovery.tools.some((t) => t.shape.pattern === "ptr_len_to_i32" || t.shape.pattern === "ptr_len_to_string");
  return stringTools && !info.functions.some((f) => STRING_ALLOCATORS.includes(f.name));
}
