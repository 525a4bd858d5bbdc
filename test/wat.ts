// WebAssembly text compiled with the `wabt` dev dependency, for tests that need a module of their own.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers.js";

const FEATURES = { multi_value: true, bulk_memory: true, reference_types: true, sign_extension: true, sat_float_to_int: true, mutable_globals: true };

let wabt: Promise<Awaited<ReturnType<typeof import("wabt")["default"]>>> | undefined;

/** The module's bytes. */
export async function watBytes(source: string): Promise<Uint8Array> {
  wabt ??= import("wabt").then((m) => m.default());
  const module = (await wabt).parseWat("test.wat", source, FEATURES);
  try {
    return module.toBinary({ write_debug_names: true }).buffer;
  } finally {
    module.destroy();
  }
}

/** Writes the module to a fresh temp file and returns its path. */
export async function watFile(source: string, name = "module.wasm"): Promise<string> {
  const file = join(tempDir("wasmforge-wat-"), name);
  writeFileSync(file, await watBytes(source));
  return file;
}
