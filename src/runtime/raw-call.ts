// Runs one call to a plain WebAssembly export, inside a call worker.

import { STRING_ALLOCATORS } from "../discovery/raw.js";
import type { CallShape } from "../discovery/types.js";
import { ToolError } from "./failure.js";
import type { Meter } from "./meter-host.js";
import type { CallInput, CallValue, LoadOptions } from "./protocol.js";
import { createWasiShim, WASI_NAMESPACE, type WasiShim } from "./wasi.js";

const PAGE = 65536;

export interface RawInstance {
  exports: WebAssembly.Exports;
  memory?: WebAssembly.Memory;
  wasi?: WasiShim;
  /** Bytes grown for string input when the module has no allocator; reused by kept instances. */
  scratch?: { ptr: number; size: number };
  /** The just-instantiated state, when the instance can be put back to it after a call. */
  pristine?: {
    memory?: Uint8Array;
    globals: { global: WebAssembly.Global; value: unknown }[];
    tables: { table: WebAssembly.Table; entries: unknown[] }[];
  };
}

/** Above this, copying the memory back costs more than a new instance. */
const MAX_RESET_BYTES = 1 << 20;

/** `meter`: the host side of the module's fuel (when its code is metered). */
export function instantiateRaw(module: WebAssembly.Module, options: LoadOptions, meter?: Meter): RawInstance {
  const imports: WebAssembly.Imports = options.metered && meter ? { ...meter.imports } : {};
  const plan = options.imports;
  const wasi = plan.wasiFunctions.length > 0 ? createWasiShim(plan.wasiFunctions) : undefined;
  if (wasi) imports[WASI_NAMESPACE] = wasi.imports as WebAssembly.ModuleImports;
  let memory: WebAssembly.Memory | undefined;
  if (plan.assemblyScriptEnv.length > 0) imports.env = assemblyScriptEnv(plan.assemblyScriptEnv, () => memory);
  if (plan.importedMemory) {
    const { module: ns, name, minPages, shared } = plan.importedMemory;
    const maximum = Math.max(minPages, Math.floor(options.maxMemoryBytes / PAGE));
    memory = new WebAssembly.Memory({ initial: minPages, maximum, shared });
    (imports[ns] ??= {})[name] = memory;
  }
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, imports);
  } catch (err) {
    throw new ToolError("instantiate", `cannot instantiate module: ${(err as Error).message}`);
  }
  const exported = instance.exports.memory ?? Object.values(instance.exports).find((v) => v instanceof WebAssembly.Memory);
  if (exported instanceof WebAssembly.Memory) memory = exported;
  if (wasi && memory) wasi.bind(memory);
  const start = instance.exports._initialize;
  if (typeof start === "function") start();
  const inst: RawInstance = { exports: instance.exports, memory, wasi };
  if (memory && options.scratchPages > 0) {
    const previous = memory.grow(options.scratchPages);
    inst.scratch = { ptr: previous * PAGE, size: options.scratchPages * PAGE };
  }
  const resettable = options.resettable;
  if (options.state === "fresh" && resettable && (memory?.buffer.byteLength ?? 0) <= MAX_RESET_BYTES) {
    inst.pristine = {
      memory: memory ? new Uint8Array(memory.buffer).slice() : undefined,
      globals: resettable.globals.map((name) => {
        const global = instance.exports[name] as WebAssembly.Global;
        return { global, value: global.value };
      }),
      tables: resettable.tables.map((name) => {
        const table = instance.exports[name] as WebAssembly.Table;
        return { table, entries: Array.from({ length: table.length }, (_, i) => table.get(i)) };
      }),
    };
  }
  return inst;
}

/**
 * AssemblyScript's default imports (`env.abort` on a failed assertion, `env.seed` for Math.random),
 * so modules built with asc's defaults load as they are.
 */
function assemblyScriptEnv(names: string[], memory: () => WebAssembly.Memory | undefined): WebAssembly.ModuleImports {
  const env: WebAssembly.ModuleImports = {};
  if (names.includes("abort")) {
    env.abort = (messagePtr: number, filePtr: number, line: number, column: number) => {
      const text = (ptr: number) => readAssemblyScriptString(memory(), ptr);
      const where = text(filePtr);
      throw new ToolError("module", `the module aborted: ${text(messagePtr) || "assertion failed"}${where ? ` (${where}:${line}:${column})` : ""}`);
    };
  }
  if (names.includes("seed")) env.seed = () => Math.random() * Number.MAX_SAFE_INTEGER;
  return env;
}

/** An AssemblyScript string: UTF-16 code units, their byte length in the 4 bytes before it. */
function readAssemblyScriptString(memory: WebAssembly.Memory | undefined, ptr: number): string {
  if (!memory || ptr < 4 || ptr >= memory.buffer.byteLength) return "";
  const length = new DataView(memory.buffer).getUint32(ptr - 4, true);
  if (ptr + length > memory.buffer.byteLength) return "";
  return new TextDecoder("utf-16le").decode(new Uint8Array(memory.buffer, ptr, Math.min(length, 1024)));
}

/**
 * Puts a used instance back to its just-instantiated state, so the next call sees no trace of
 * this one. False when that is not possible (memory or a table grew): instantiate a new one instead.
 */
export function resetRaw(inst: RawInstance): boolean {
  const pristine = inst.pristine;
  if (!pristine) return false;
  if (pristine.memory) {
    if (!inst.memory || inst.memory.buffer.byteLength !== pristine.memory.length) return false;
    new Uint8Array(inst.memory.buffer).set(pristine.memory);
  }
  // A table that grew cannot shrink back: build a new instance.
  if (pristine.tables.some(({ table, entries }) => table.length !== entries.length)) return false;
  for (const { global, value } of pristine.globals) global.value = value;
  for (const { table, entries } of pristine.tables) {
    for (let i = 0; i < entries.length; i++) if (table.get(i) !== entries[i]) table.set(i, entries[i]);
  }
  return true;
}

/** Runs one export; a trap or host error propagates as it is (the worker describes it). */
export function callRaw(inst: RawInstance, fnName: string, shape: CallShape, input: CallInput, options: LoadOptions): CallValue {
  const fn = inst.exports[fnName];
  if (typeof fn !== "function") throw new ToolError("instantiate", `export "${fnName}" is not a function`);
  switch (shape.pattern) {
    case "numeric": {
      const args = input.kind === "numeric" ? input.args : [];
      return { kind: "number", value: fn(...args) as number | bigint };
    }
    case "ptr_len_to_i32": {
      const { ptr, len, release } = writeInput(inst, input.kind === "text" ? input.text : "");
      const value = fn(ptr, len) as number;
      release();
      return { kind: "number", value };
    }
    case "ptr_len_to_string": {
      const { ptr, len, release } = writeInput(inst, input.kind === "text" ? input.text : "");
      const text = readPackedString(inst, fn(ptr, len), options.maxOutputBytes);
      release();
      return { kind: "text", text };
    }
    case "no_params_to_string":
      return { kind: "text", text: readPackedString(inst, fn(), options.maxOutputBytes) };
    case "extism":
      throw new ToolError("instantiate", "an Extism function cannot be called as a plain export");
    case "component":
      throw new ToolError("instantiate", "a component's function cannot be called as a plain export");
  }
}

/** Puts UTF-8 text where the module cannot be using it: its own allocator, else freshly grown pages. */
function writeInput(inst: RawInstance, text: string): { ptr: number; len: number; release: () => void } {
  const memory = inst.memory;
  if (!memory) throw new ToolError("instantiate", "the module exports no memory, so it cannot take a string");
  const bytes = new TextEncoder().encode(text);
  const len = bytes.length;
  const alloc = STRING_ALLOCATORS.map((name) => inst.exports[name]).find((f) => typeof f === "function");
  if (typeof alloc === "function") {
    const ptr = (alloc(Math.max(len, 1)) as number) >>> 0;
    if (ptr === 0 || ptr + len > memory.buffer.byteLength) throw new ToolError("module", `the module's allocator returned an unusable pointer (${ptr}) for ${len} bytes`);
    new Uint8Array(memory.buffer, ptr, len).set(bytes);
    return { ptr, len, release: () => free(inst, ptr, len) };
  }
  if (!inst.scratch || inst.scratch.size < len) {
    const pages = Math.max(1, Math.ceil(len / PAGE));
    let previous: number;
    try {
      previous = memory.grow(pages);
    } catch {
      throw new ToolError("memory", `no room for a ${len}-byte string: the module's memory cannot grow by ${pages} pages (memory limit)`);
    }
    inst.scratch = { ptr: previous * PAGE, size: pages * PAGE };
  }
  new Uint8Array(memory.buffer, inst.scratch.ptr, len).set(bytes);
  return { ptr: inst.scratch.ptr, len, release: () => {} };
}

function free(inst: RawInstance, ptr: number, len: number): void {
  const { dealloc, free } = inst.exports;
  if (typeof dealloc === "function") dealloc(ptr, len);
  else if (typeof free === "function") free(ptr);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The (ptr << 32 | len) convention of ptr_len_to_string and no_params_to_string. */
function readPackedString(inst: RawInstance, packed: unknown, maxOutputBytes: number): string {
  if (typeof packed !== "bigint") throw new ToolError("module", "expected an i64 (pointer << 32 | length) result");
  const ptr = Number((BigInt.asUintN(64, packed) >> 32n) & 0xffffffffn);
  const len = Number(BigInt.asUintN(64, packed) & 0xffffffffn);
  const memory = inst.memory;
  if (!memory) throw new ToolError("module", "the module exports no memory, so it cannot return a string");
  const size = memory.buffer.byteLength;
  if (ptr + len > size) {
    throw new ToolError("module", `result out of bounds: pointer ${ptr} + length ${len} is past the end of the module's memory (${size} bytes)`);
  }
  if (len > maxOutputBytes) {
    throw new ToolError("output", `result of ${len} bytes is over the output limit of ${maxOutputBytes} bytes (max_output_mb)`);
  }
  let text: string;
  try {
    text = utf8.decode(new Uint8Array(memory.buffer, ptr, len));
  } catch {
    throw new ToolError("module", `result is not valid UTF-8 (${len} bytes at pointer ${ptr})`);
  }
  free(inst, ptr, len);
  return text;
}
