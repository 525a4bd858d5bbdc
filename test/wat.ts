// WebAssembly modules the tests write as text: one wat() turns WAT into the bytes a test serves,
// inspects or rewrites (wabt compiles it), and the few modules several test files share.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wabtInit from "wabt";

const wabt = await wabtInit();

export type WatFeatures = NonNullable<Parameters<typeof wabt.parseWat>[2]>;

export interface WatOptions {
  /** Keep the names ($a, $ptr, …) in a name section, as a debug build does; default true. */
  names?: boolean;
  /** Post-MVP features beyond wabt's defaults (bulk memory, reference types, multi-value…). */
  features?: WatFeatures;
  /** Check the module with wabt's validator; default true (the meter's tests build odd modules on purpose). */
  validate?: boolean;
}

/** The binary of a module written in WebAssembly text; throws with wabt's message when it is not valid. */
export function wat(source: string, { names = true, features, validate = true }: WatOptions = {}): Uint8Array {
  const module = wabt.parseWat("test.wat", source, features);
  try {
    module.resolveNames();
    if (validate) module.validate();
    return module.toBinary({ write_debug_names: names }).buffer;
  } finally {
    module.destroy();
  }
}

/** A plain module whose `name`(a, b) applies `op` (i32.add, i32.mul, …) to its two parameters. */
export function mathModule(op: string, name = "add"): Uint8Array {
  return wat(`(module (func (export "${name}") (param $a i32) (param $b i32) (result i32) local.get $a local.get $b ${op}))`);
}

/**
 * An Extism plugin whose `fetch` sends its input (the tool's JSON arguments, e.g. {"url": …}) to
 * http_request as the request, and answers with the response body. With a gate (test/gate.ts) as
 * the URL, a call stays running until the test lets it finish, without burning a core.
 */
export function fetchPlugin(): Uint8Array {
  return wat(`(module
    (import "extism:host/env" "input_length" (func $input_length (result i64)))
    (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
    (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
    (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
    (import "extism:host/env" "length" (func $length (param i64) (result i64)))
    (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
    (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
    (memory (export "memory") 1)
    (func (export "fetch") (result i32)
      (local $n i64) (local $i i64) (local $req i64) (local $resp i64)
      (local.set $n (call $input_length))
      (local.set $req (call $alloc (local.get $n)))
      (block $done (loop $copy
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (call $store_u8 (i64.add (local.get $req) (local.get $i)) (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $copy)))
      (local.set $resp (call $http_request (local.get $req) (i64.const 0)))
      (call $output_set (local.get $resp) (call $length (local.get $resp)))
      (i32.const 0)))`);
}

/** Writes the module to a fresh temp file (its path goes into a config's `path = …`). */
export function watFile(source: string, options: WatOptions = {}, name = "module.wasm"): string {
  const file = join(mkdtempSync(join(tmpdir(), "wasmforge-wat-")), name);
  writeFileSync(file, wat(source, options));
  return file;
}

/** The proposals Node 20's V8 runs that wabt does not enable by default: data.drop, table.set, multi-value. */
export const POST_MVP: WatFeatures = { bulk_memory: true, reference_types: true, multi_value: true };
