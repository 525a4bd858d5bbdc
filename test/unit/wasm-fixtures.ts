// Builds modules for the wasm unit tests: WAT through the wabt package, raw bodies by hand for
// proposals wabt cannot write.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "vitest";
import wabtInit from "wabt";
import { binaryKind } from "../../src/wasm/reader.js";
import { MODULES } from "../helpers.js";
import { wat as watWith } from "../wat.js";

/** Every proposal wabt can write; V8 in Node 20 runs the ones it ships. */
export const FEATURES = {
  exceptions: true,
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  simd: true,
  threads: true,
  function_references: true,
  multi_value: true,
  tail_call: true,
  bulk_memory: true,
  reference_types: true,
  memory64: true,
  extended_const: true,
  relaxed_simd: true,
  multi_memory: true,
};

const wabt = await wabtInit();

/** WAT with every proposal wabt writes, unvalidated (test/wat.ts's one compiler). */
export function wat(text: string): Uint8Array {
  return watWith(text, { features: FEATURES, validate: false });
}

/**
 * Validates a binary with wabt, for proposals V8 in Node 20 does not run (try_table, memory64,
 * multi-memory, extended const, relaxed SIMD); throws wabt's reason.
 */
export function validateWithWabt(bytes: Uint8Array): void {
  const module = wabt.readWasm(bytes, { readDebugNames: true, ...FEATURES });
  try {
    // An assertion, so a test that only validates still counts as asserting (requireAssertions).
    expect(() => module.validate()).not.toThrow();
  } finally {
    module.destroy();
  }
}

/** Every committed module under test-modules/, as paths relative to it. */
export function committedModules(dir = MODULES): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...committedModules(path));
    // Core modules only: a component (WASI 0.2) is another binary format.
    else if (entry.name.endsWith(".wasm") && binaryKind(readFileSync(path)) === "module") out.push(relative(MODULES, path));
  }
  return out.sort();
}

function section(id: number, payload: number[]): number[] {
  return [id, ...leb(payload.length), ...payload];
}

export function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value >>>= 7;
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

/**
 * A module holding raw function bodies (locals and code, without the size) for the decoder:
 * not valid for V8, only well-formed enough to find its code section.
 */
export function rawBodies(bodies: number[][]): Uint8Array {
  const code = [...leb(bodies.length)];
  for (const body of bodies) code.push(...leb(body.length), ...body);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x00, 0x00]),
    ...section(3, [...leb(bodies.length), ...bodies.map(() => 0x00)]),
    ...section(10, code),
  ]);
}
