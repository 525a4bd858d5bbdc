// Tools from Extism plugins: every exported function that takes nothing and returns an i32 status
// (or nothing, as TinyGo's Go PDK builds them) is a tool; JSON arguments go in as the plugin's input.

import type { ArgumentSpec, ToolOverride } from "../config/schema.js";
import { RUNTIME_EXPORTS, type Classification } from "./raw.js";
import type { JsonSchema } from "./types.js";
import type { ExportedFunction, ImportEntry } from "../wasm/reader.js";

export const EXTISM_NAMESPACE = "extism:host/env";

export function isExtismPlugin(imports: ImportEntry[]): boolean {
  return imports.some((i) => i.module === EXTISM_NAMESPACE);
}

export function classifyExtism(fn: ExportedFunction, override: ToolOverride | undefined): Classification {
  const { params, results } = fn.signature;
  if (override?.pattern && override.pattern !== "extism") {
    return { skip: `config pattern "${override.pattern}" does not apply to an Extism plugin; use "extism" or leave it out` };
  }
  if (RUNTIME_EXPORTS.has(fn.name) || fn.name.startsWith("__")) return { skip: "runtime export" };
  if (params.length > 0) return { skip: "takes parameters (Extism functions read their input from the host)" };
  if (results.length > 1 || (results.length === 1 && results[0] !== "i32")) {
    return { skip: `returns ${results.join(", ")} (Extism functions return an i32 status or nothing)` };
  }
  if (override?.input === "text") return { shape: { pattern: "extism", input: "text" }, rule: "Extism plugin function, text input (config)" };
  return { shape: { pattern: "extism" }, rule: "Extism plugin function" };
}

export function extismInputSchema(override: ToolOverride | undefined): JsonSchema {
  if (override?.input === "text") {
    return {
      type: "object",
      properties: { input: { type: "string", description: "Text passed to the plugin as its input" } },
      required: ["input"],
      additionalProperties: false,
    };
  }
  if (override?.input_schema) return override.input_schema;
  if (override?.arguments) return schemaFromArguments(override.arguments);
  return { type: "object", additionalProperties: true };
}

/** WASImancer-style `arguments = [{ name, type, description }]` as a JSON Schema. */
export function schemaFromArguments(args: ArgumentSpec[]): JsonSchema {
  return {
    type: "object",
    properties: Object.fromEntries(
      args.map((a) => [a.name, { type: a.type, ...(a.description ? { description: a.description } : {}) }]),
    ),
    required: args.filter((a) => a.required).map((a) => a.name),
  };
}
