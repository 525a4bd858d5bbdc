// Tools from plain WebAssembly exports, classified by signature (see "How tools are discovered" in the README).

import type { PatternName, ToolOverride } from "../config/schema.js";
import { looksLikeStringParams, numericParamNames } from "../core/naming.js";
import { isNumeric, type CallShape, type JsonSchema, type NumericType } from "./types.js";
import type { ExportedFunction } from "../wasm/reader.js";

/** Exports that belong to the toolchain or the memory protocol, never tools. */
export const RUNTIME_EXPORTS = new Set([
  "_start",
  "_initialize",
  "__wasm_call_ctors",
  "__wasm_apply_data_relocs",
  "alloc",
  "dealloc",
  "malloc",
  "free",
  "calloc",
  "realloc",
  "cabi_realloc",
  "hs_init",
]);

/** Exports a module offers for WasmForge to put string arguments in its memory (README: strings in). */
export const STRING_ALLOCATORS = ["alloc", "malloc"];

export type Classification = { shape: CallShape; rule: string } | { skip: string };

const STRING_ARG = "data";

export function classifyRaw(fn: ExportedFunction, override: ToolOverride | undefined): Classification {
  const { params, results } = fn.signature;
  if (override?.pattern) return fromPattern(fn, override.pattern);
  if (RUNTIME_EXPORTS.has(fn.name)) return { skip: "runtime export (allocator or start function)" };
  if (results.length === 0) return { skip: "returns nothing (a tool needs a result)" };
  if (results.length > 1) return { skip: `returns ${results.length} values (a tool returns one)` };
  const result = results[0]!;
  const nonNumeric = params.find((t) => !isNumeric(t));
  if (!isNumeric(result) || nonNumeric) return { skip: `uses ${nonNumeric ?? result}, which has no JSON form` };

  if (params.length === 2 && params[0] === "i32" && params[1] === "i32" && (result === "i32" || result === "i64")) {
    const [first, second] = fn.paramNames;
    if (looksLikeStringParams(first, second)) {
      const pattern = result === "i32" ? "ptr_len_to_i32" : "ptr_len_to_string";
      return { shape: { pattern, argName: STRING_ARG }, rule: `parameter names (${first}, ${second}) mark a string` };
    }
    const why = first && second ? `parameter names (${first}, ${second}) are not string names` : "no parameter names in the module";
    return { shape: numericShape(fn, result), rule: `${why}: numeric` };
  }
  return { shape: numericShape(fn, result), rule: "numeric signature" };
}

function numericShape(fn: ExportedFunction, result: NumericType): CallShape {
  const params = fn.signature.params as NumericType[];
  return { pattern: "numeric", params, argNames: numericParamNames(fn.paramNames), result };
}

/** A pattern forced by the config; it must still fit the signature. */
function fromPattern(fn: ExportedFunction, pattern: PatternName): Classification {
  const { params, results } = fn.signature;
  const sig = `(${params.join(", ")}) -> ${results.join(", ") || "()"}`;
  const mismatch = (expected: string) => ({ skip: `config pattern "${pattern}" needs ${expected}, but "${fn.name}" is ${sig}` });
  const rule = `config pattern "${pattern}"`;
  const twoI32 = params.length === 2 && params[0] === "i32" && params[1] === "i32";
  switch (pattern) {
    case "ptr_len_to_i32":
      if (!twoI32 || results.length !== 1 || results[0] !== "i32") return mismatch("(i32, i32) -> i32");
      return { shape: { pattern, argName: STRING_ARG }, rule };
    case "ptr_len_to_string":
      if (!twoI32 || results.length !== 1 || results[0] !== "i64") return mismatch("(i32, i32) -> i64");
      return { shape: { pattern, argName: STRING_ARG }, rule };
    case "no_params_to_string":
      if (params.length !== 0 || results.length !== 1 || results[0] !== "i64") return mismatch("() -> i64");
      return { shape: { pattern }, rule };
    case "i32_i32_to_i32":
      if (!twoI32 || results.length !== 1 || results[0] !== "i32") return mismatch("(i32, i32) -> i32");
      return { shape: numericShape(fn, "i32"), rule };
    case "no_params_to_i32":
      if (params.length !== 0 || results.length !== 1 || results[0] !== "i32") return mismatch("() -> i32");
      return { shape: numericShape(fn, "i32"), rule };
    case "numeric": {
      const result = results[0];
      if (results.length !== 1 || !result || !isNumeric(result) || !params.every(isNumeric)) {
        return mismatch("numeric parameters and one numeric result");
      }
      return { shape: numericShape(fn, result), rule };
    }
    case "extism":
      return { skip: `config pattern "extism" applies only to Extism plugins (modules importing extism:host/env)` };
  }
}

/** The decimal form an i64 argument may take as a string: JSON numbers lose precision beyond 2^53. */
export const I64_STRING = "^-?[0-9]{1,19}$";

function numberSchema(t: NumericType, description: string): JsonSchema {
  if (t === "f32" || t === "f64") return { type: "number", description };
  if (t === "i32") return { type: "integer", minimum: -2147483648, maximum: 2147483647, description };
  return {
    type: ["integer", "string"],
    minimum: Number.MIN_SAFE_INTEGER,
    maximum: Number.MAX_SAFE_INTEGER,
    pattern: I64_STRING,
    description: `${description}; a 64-bit integer: give values beyond ±9007199254740991 as a decimal string, e.g. "9223372036854775807"`,
  };
}

export function rawInputSchema(shape: CallShape): JsonSchema {
  switch (shape.pattern) {
    case "numeric":
      return {
        type: "object",
        properties: Object.fromEntries(
          shape.argNames.map((name, i) => [name, numberSchema(shape.params[i]!, `${shape.params[i]} parameter`)]),
        ),
        required: shape.argNames,
        additionalProperties: false,
      };
    case "ptr_len_to_i32":
    case "ptr_len_to_string":
      return {
        type: "object",
        properties: { [shape.argName]: { type: "string", description: "Text passed to the function as UTF-8 bytes" } },
        required: [shape.argName],
        additionalProperties: false,
      };
    case "no_params_to_string":
    case "extism":
      return { type: "object", properties: {}, additionalProperties: false };
    case "component":
      throw new Error("a component's input schema comes from its WIT types (component-schema.ts)");
  }
}

export function rawOutputSchema(shape: CallShape): JsonSchema | undefined {
  if (shape.pattern === "numeric" && (shape.result === "f32" || shape.result === "f64")) {
    // JSON has no Infinity or NaN: those come as the strings "Infinity", "-Infinity", "NaN".
    return { type: "object", properties: { result: { type: ["number", "string"] } }, required: ["result"] };
  }
  if (shape.pattern === "numeric" && shape.result === "i64") {
    // Integers beyond ±2^53 come as decimal strings (JSON numbers would be rounded).
    return { type: "object", properties: { result: { type: ["integer", "string"] } }, required: ["result"] };
  }
  if (shape.pattern === "numeric" || shape.pattern === "ptr_len_to_i32") {
    return { type: "object", properties: { result: { type: "integer" } }, required: ["result"] };
  }
  return undefined;
}
