import type { Prompt, Resource, ResourceTemplateType as ResourceTemplate, ToolAnnotations } from "@modelcontextprotocol/server";
import type { PatternName } from "../config/schema.js";
import type { WitParam, WitType } from "../wasm/component.js";
import type { ValueType } from "../wasm/reader.js";

export type NumericType = "i32" | "i64" | "f32" | "f64";
import type { JsonSchema } from "../core/json-schema.js";

export type { JsonSchema };

/** How a tool's JSON arguments become a wasm call, and how its result becomes MCP content. */
export type CallShape =
  | { pattern: "numeric"; params: NumericType[]; argNames: string[]; result: NumericType }
  | { pattern: "ptr_len_to_i32"; argName: string }
  | { pattern: "ptr_len_to_string"; argName: string }
  | { pattern: "no_params_to_string" }
  /** `input: "text"`: the plugin reads plain text (the `input` argument), not the JSON arguments. */
  | { pattern: "extism"; input?: "text" }
  /**
   * A component's exported function (in `interface` when it belongs to an exported interface):
   * the JSON arguments are its parameters by name, its result comes back as JSON.
   */
  | { pattern: "component"; interface?: string; function: string; params: WitParam[]; result?: WitType };

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
  /** From plugins that describe their own tools (interface 2 may give these). */
  title?: string;
  annotations?: ToolAnnotations;
  /** Set for a tool a plugin described: the name the plugin knows it by (the served name may differ). */
  plugin?: { interface: PluginInterface; tool: string };
}

/** A plain core module, an Extism plugin, or a WebAssembly component (WASI 0.2). */
export type ModuleAbi = "raw" | "extism" | "component";

/**
 * The contract of an Extism plugin that describes its own tools: hyper-mcp's interface 1
 * (`describe` + `call`, also mcp.run servlets) or interface 2 (`list_tools` + `call_tool`).
 */
export type PluginInterface = "describe_v1" | "mcp_v2";

/** What an interface-2 plugin offers beside tools, read once at load like its tools. */
export interface PluginOffers {
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
}

export interface SkippedExport {
  export: string;
  reason: string;
}

export interface ExportDecision {
  export: string;
  signature: string;
  /** The pattern chosen (the interface, for a describing plugin's call export), or undefined when skipped. */
  pattern?: PatternName | "numeric" | PluginInterface | "component";
  /** Which rule decided, or why it was skipped. */
  rule: string;
}

export interface Discovery {
  abi: ModuleAbi;
  /** Set when the plugin describes its own tools; its `tools` are then filled in at load by asking it. */
  interface?: PluginInterface;
  offers?: PluginOffers;
  tools: ToolDef[];
  decisions: ExportDecision[];
  /** Problems with the module's config entry (e.g. an override naming a missing export). */
  warnings: string[];
}

export function isNumeric(t: ValueType): t is NumericType {
  return t === "i32" || t === "i64" || t === "f32" || t === "f64";
}
