import type { PatternName } from "../config/schema.js";
import type { ValueType } from "./wasm-binary.js";

export type NumericType = "i32" | "i64" | "f32" | "f64";
export type JsonSchema = Record<string, unknown>;

/** How a tool's JSON arguments become a wasm call, and how its result becomes MCP content. */
export type CallShape =
  | { pattern: "numeric"; params: NumericType[]; argNames: string[]; result: NumericType }
  | { pattern: "ptr_len_to_i32"; argName: string }
  | { pattern: "ptr_len_to_string"; argName: string }
  | { pattern: "no_params_to_string" }
  | { pattern: "extism" };

export interface ToolDef {
  /** Name exposed to clients. */
  name: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  /** Module (config name) and export that implement it. */
  module: string;
  function: string;
  shape: CallShape;
  timeoutMs?: number;
}

export type ModuleAbi = "raw" | "extism";

export interface SkippedExport {
  export: string;
  reason: string;
}

export interface ExportDecision {
  export: string;
  signature: string;
  /** The pattern chosen, or undefined when skipped. */
  pattern?: PatternName | "numeric";
  /** Which rule decided, or why it was skipped. */
  rule: string;
}

export interface Discovery {
  abi: ModuleAbi;
  tools: ToolDef[];
  decisions: ExportDecision[];
  /** Problems with the module's config entry (e.g. an override naming a missing export). */
  warnings: string[];
}

export function isNumeric(t: ValueType): t is NumericType {
  return t === "i32" || t === "i64" || t === "f32" || t === "f64";
}
