// The wasm binary reader (src/wasm/reader.ts) and the rewrites made before compiling
// (src/wasm/rewrite.ts), on modules written in WAT: what the reader records, and that every rewrite
// leaves a module WebAssembly accepts and that behaves as promised.

import { describe, expect, it } from "vitest";
import { readWasmInfo, sections, WasmFormatError } from "../../src/wasm/reader.js";
import { capMemory, encodeU32, exposeResettableState, GLOBAL_EXPORT_PREFIX, insertSection, pagesForMegabytes, TABLE_EXPORT_PREFIX } from "../../src/wasm/rewrite.js";
import { wat } from "../wat.js";

const MEMORY_SECTION = 5;

/** A custom section's body: its name, then the payload. */
function customSection(name: string, payload: number[] = []): number[] {
  const bytes = [...new TextEncoder().encode(name)];
  return [...encodeU32(bytes.length), ...bytes, ...payload];
}

/** Compiles and instantiates a module that imports nothing. */
function instantiate(bytes: Uint8Array): WebAssembly.Instance {
  return new WebAssembly.Instance(compile(bytes));
}

function compile(bytes: Uint8Array): WebAssembly.Module {
  return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
}

function readError(bytes: Uint8Array): string {
  try {
    readWasmInfo(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(WasmFormatError);
    return (err as Error).message;
  }
  throw new Error("the module was read without complaint");
}

describe("readWasmInfo", () => {
  it("exported functions with their signatures, and parameter names when the module kept them", () => {
    const source = `(module
      (func (export "add") (param $a i32) (param $b i32) (result i32) (i32.add (local.get $a) (local.get $b)))
      (func (export "scale") (param $value f64) (param $factor f32) (result f64) (f64.mul (local.get $value) (f64.promote_f32 (local.get $factor))))
      (func (export "tick")))`;
    const named = readWasmInfo(wat(source));
    expect(named.functions).toEqual([
      { name: "add", signature: { params: ["i32", "i32"], results: ["i32"] }, paramNames: ["a", "b"] },
      { name: "scale", signature: { params: ["f64", "f32"], results: ["f64"] }, paramNames: ["value", "factor"] },
      { name: "tick", signature: { params: [], results: [] }, paramNames: [] },
    ]);
    const stripped = readWasmInfo(wat(source, { names: false }));
    expect(stripped.functions[0]!.paramNames).toEqual([undefined, undefined]);
  });

  it("imports come first in each index space: function signatures, memory limits, globals, tables", () => {
    const info = readWasmInfo(
      wat(`(module
        (import "env" "log" (func $log (param i64 i64)))
        (import "env" "memory" (memory 2 8))
        (import "env" "counter" (global $counter (mut i32)))
        (import "env" "table" (table 3 funcref))
        (global $own (mut i64) (i64.const 7))
        (global $fixed f32 (f32.const 1.5))
        (func (export "run") (param $n i32) (result i32) (call $log (i64.const 0) (i64.const 0)) (local.get $n)))`),
    );
    expect(info.imports).toEqual([
      { module: "env", name: "log", kind: "function", signature: { params: ["i64", "i64"], results: [] } },
      { module: "env", name: "memory", kind: "memory" },
      { module: "env", name: "counter", kind: "global" },
      { module: "env", name: "table", kind: "table" },
    ]);
    expect(info.memories).toEqual([{ minPages: 2, maxPages: 8, imported: true }]);
    expect(info.globals).toEqual([
      { index: 0, type: "i32", mutable: true, imported: true, plainInit: false },
      { index: 1, type: "i64", mutable: true, imported: false, plainInit: true },
      { index: 2, type: "f32", mutable: false, imported: false, plainInit: true },
    ]);
    expect(info.tables).toEqual([{ index: 0, imported: true, minEntries: 3 }]);
    // The function index space counts the import: "run" is function 1 and still gets its own signature.
    expect(info.functions).toEqual([{ name: "run", signature: { params: ["i32"], results: ["i32"] }, paramNames: ["n"] }]);
  });

  it("exports that are not functions are listed apart", () => {
    const info = readWasmInfo(wat(`(module (memory (export "memory") 1) (global (export "g") i32 (i32.const 1)) (table (export "t") 1 funcref) (func (export "f")))`));
    expect(info.otherExports).toEqual([
      { name: "memory", kind: "memory" },
      { name: "g", kind: "global" },
      { name: "t", kind: "table" },
    ]);
    expect(info.exports.map((e) => `${e.kind}:${e.name}:${e.index}`)).toEqual(["memory:memory:0", "global:g:0", "table:t:0", "function:f:0"]);
  });

  it("a module that drops data or element segments is marked: its instance cannot be put back", () => {
    const active = wat(`(module (memory 1) (data (i32.const 0) "x") (table 1 funcref) (func $f) (elem (i32.const 0) $f))`);
    const dataDrop = wat(`(module (memory 1) (data "x") (func (export "f") (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1)) (data.drop 0)))`);
    const passiveElements = wat(`(module (table 2 funcref) (func $f) (elem func $f))`);
    expect(readWasmInfo(active).dropsSegments).toBe(false);
    expect(readWasmInfo(dataDrop).dropsSegments).toBe(true);
    expect(readWasmInfo(passiveElements).dropsSegments).toBe(true);
  });

  it("a v128 global's init expression is not one WasmForge decodes", () => {
    const info = readWasmInfo(wat(`(module (global (mut v128) (v128.const i32x4 0 0 0 0)))`));
    expect(info.globals).toEqual([{ index: 0, type: "v128", mutable: true, imported: false, plainInit: false }]);
  });

  it("what is not a core module is refused with a reason", () => {
    const module = wat(`(module (func (export "f") (result i32) (i32.const 1)))`, { names: false });
    expect(readError(new TextEncoder().encode("(module)"))).toBe("not a WebAssembly module (missing \\0asm header)");
    expect(readError(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]))).toBe("this is a WebAssembly component, not a core module");
    expect(readError(new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]))).toBe("unsupported WebAssembly version (a newer binary format?)");
    expect(readError(module.subarray(0, module.length - 3))).toMatch(/^section 10 runs past the end of the file \(truncated\?\)$/);
  });

  it("a damaged name section costs only the parameter names", () => {
    const module = wat(`(module (func (export "add") (param $a i32) (param $b i32) (result i32) (local.get $a)))`, { names: false });
    // A name section whose local-names subsection claims more bytes than there are.
    const damaged = insertSection(module, module.length, 0, customSection("name", [2, 0x7f, 1]));
    expect(readWasmInfo(damaged).functions).toEqual([{ name: "add", signature: { params: ["i32", "i32"], results: ["i32"] }, paramNames: [undefined, undefined] }]);
  });
});

describe("capMemory", () => {
  const maxOf = (bytes: Uint8Array) => readWasmInfo(bytes).memories.map((m) => m.maxPages);

  it("lowers or sets the maximum of the module's own memory to the cap, never below its minimum", () => {
    expect(maxOf(capMemory(wat(`(module (memory 1))`), 16))).toEqual([16]);
    expect(maxOf(capMemory(wat(`(module (memory 1 1000))`), 16))).toEqual([16]);
    expect(maxOf(capMemory(wat(`(module (memory 1 4))`), 16))).toEqual([4]);
    expect(maxOf(capMemory(wat(`(module (memory 20))`), 16))).toEqual([20]);
  });

  it("memory.grow fails at the cap in the rewritten module", () => {
    const module = wat(`(module (memory 1) (func (export "grow") (param $pages i32) (result i32) (memory.grow (local.get $pages))))`);
    const capped = capMemory(module, pagesForMegabytes(1));
    const instance = instantiate(capped);
    const grow = instance.exports.grow as (pages: number) => number;
    expect(grow(15)).toBe(1); // 16 pages = 1 MiB: allowed
    expect(grow(1)).toBe(-1); // one page more: refused
  });

  it("keeps a shared memory shared, and leaves memory64 and modules without memory as they are", () => {
    // (memory 1 100 shared): wabt's validator will not write it, so the limits' flags are set by hand.
    const shared = wat(`(module (memory 1 100))`);
    const flags = (bytes: Uint8Array) => sections(bytes).find((s) => s.id === MEMORY_SECTION)!.start + 1;
    shared[flags(shared)] = 0x03;
    const capped = capMemory(shared, 8);
    expect(WebAssembly.validate(capped as Uint8Array<ArrayBuffer>)).toBe(true);
    expect(readWasmInfo(capped).memories).toEqual([{ minPages: 1, maxPages: 8, imported: false }]);
    expect(capped[flags(capped)]).toBe(0x03);

    const memory64 = wat(`(module (memory i64 1))`, { features: { memory64: true } });
    expect(capMemory(memory64, 8)).toBe(memory64);
    const none = wat(`(module (func (export "f")))`);
    expect(capMemory(none, 8)).toBe(none);
  });

  it("imported memories are not touched: whoever provides them caps them", () => {
    const imported = wat(`(module (import "env" "memory" (memory 1)))`);
    expect(capMemory(imported, 8)).toBe(imported);
  });

  it("pagesForMegabytes: 64 KiB pages, at least one", () => {
    expect(pagesForMegabytes(1)).toBe(16);
    expect(pagesForMegabytes(256)).toBe(4096);
    expect(pagesForMegabytes(0.01)).toBe(1);
  });
});

describe("exposeResettableState", () => {
  const prepare = (bytes: Uint8Array) => exposeResettableState(bytes, readWasmInfo(bytes));

  it("exports private mutable globals and tables under WasmForge's names, and keeps the names already exported", () => {
    const bytes = wat(`(module
      (global $hidden (mut i32) (i32.const 5))
      (global $shown (export "shown") (mut i32) (i32.const 6))
      (global $constant i32 (i32.const 7))
      (table $t 1 funcref)
      (func (export "bump") (result i32)
        (global.set $hidden (i32.add (global.get $hidden) (i32.const 1)))
        (global.get $hidden)))`);
    const state = prepare(bytes)!;
    expect(state.globals).toEqual([`${GLOBAL_EXPORT_PREFIX}0`, "shown"]);
    expect(state.tables).toEqual([`${TABLE_EXPORT_PREFIX}0`]);
    const instance = instantiate(state.bytes);
    const hidden = instance.exports[state.globals[0]!] as WebAssembly.Global;
    expect((instance.exports.bump as () => number)()).toBe(6);
    expect(hidden.value).toBe(6);
    hidden.value = 5; // put back, as the runtime does between calls
    expect((instance.exports.bump as () => number)()).toBe(6);
    expect(instance.exports[state.tables[0]!]).toBeInstanceOf(WebAssembly.Table);
  });

  it("adds an export section in its place when the module has none", () => {
    // Type, function, global, then (no export section) start and code: the new one goes between.
    const bytes = wat(`(module (global $n (mut i32) (i32.const 0)) (func $init (global.set $n (i32.const 1))) (start $init))`);
    expect(sections(bytes).map((s) => s.id)).not.toContain(7);
    const state = prepare(bytes)!;
    expect(WebAssembly.validate(state.bytes as Uint8Array<ArrayBuffer>)).toBe(true);
    expect(sections(state.bytes).map((s) => s.id).filter((id) => id !== 0)).toEqual([1, 3, 6, 7, 8, 10]);
    expect(WebAssembly.Module.exports(compile(state.bytes))).toEqual([{ name: `${GLOBAL_EXPORT_PREFIX}0`, kind: "global" }]);
  });

  it("a module with nothing to reset comes back as it was", () => {
    const bytes = wat(`(module (memory 1) (global i32 (i32.const 1)) (func (export "f")))`);
    expect(prepare(bytes)).toEqual({ bytes, globals: [], tables: [] });
  });

  it("is impossible for state shared with the host, dropped segments, or globals JavaScript cannot read", () => {
    expect(prepare(wat(`(module (import "env" "g" (global (mut i32))))`))).toBeUndefined();
    expect(prepare(wat(`(module (import "env" "t" (table 1 funcref)))`))).toBeUndefined();
    expect(prepare(wat(`(module (memory 1) (data "x") (func (data.drop 0)))`))).toBeUndefined();
    expect(prepare(wat(`(module (global (mut v128) (v128.const i32x4 0 0 0 0)))`))).toBeUndefined();
  });
});

describe("insertSection", () => {
  it("puts a section at a section boundary; the module still compiles and keeps its exports", () => {
    const bytes = wat(`(module (func (export "f") (result i32) (i32.const 42)))`, { names: false });
    const before = sections(bytes);
    const code = before.find((s) => s.id === 10)!;
    const out = insertSection(bytes, code.headerStart, 0, customSection("wasmforge", [1, 2, 3]));
    expect(sections(out).map((s) => s.id)).toEqual([...before.slice(0, -1).map((s) => s.id), 0, 10]);
    const module = compile(out);
    expect(WebAssembly.Module.customSections(module, "wasmforge").map((b) => [...new Uint8Array(b)])).toEqual([[1, 2, 3]]);
    expect((new WebAssembly.Instance(module).exports.f as () => number)()).toBe(42);
  });
});
