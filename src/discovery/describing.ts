// Plugins that describe their own tools: hyper-mcp's interface 1 (`describe` + `call`, as mcp.run
// servlets do) and interface 2 (`list_tools` + `call_tool`, optionally prompts and resources).
// Detection from the exports, and asking the plugin for its tools at load. What each export is
// given on a call and how its answers are read is the call path's business (server/plugin-codec.ts).

import { specTypeSchemas } from "@modelcontextprotocol/server";
import type { ModuleSpec } from "../config/load.js";
import { hiddenToolMatcher, isValidToolName, toolNameFromExport, toolNameProblem } from "../core/naming.js";
import { formatSignature, type WasmInfo } from "../wasm/reader.js";
import { checkDeclaredSchema, checkPluginJson, parsePluginJson, type Parser } from "./plugin-json.js";
import type { Discovery, ExportDecision, PluginInterface, PluginOffers, ToolDef } from "./types.js";

interface InterfaceSpec {
  label: string;
  /** Export that lists the tools, and export that runs them. */
  list: string;
  call: string;
  /** Every export that belongs to the interface (never served as a tool). */
  exports: string[];
}

export const INTERFACES: Record<PluginInterface, InterfaceSpec> = {
  describe_v1: {
    label: "interface 1 (hyper-mcp v1, mcp.run servlet): describe + call",
    list: "describe",
    call: "call",
    exports: ["describe", "call"],
  },
  mcp_v2: {
    label: "interface 2 (hyper-mcp v2): list_tools + call_tool",
    list: "list_tools",
    call: "call_tool",
    exports: [
      "list_tools", "call_tool", "list_prompts", "get_prompt", "list_resources", "list_resource_templates",
      "read_resource", "complete", "on_roots_list_changed",
    ],
  },
};

/** Which describing interface an Extism plugin's exports implement, if any (interface 1 wins, as in hyper-mcp). */
export function detectInterface(exportNames: string[]): PluginInterface | undefined {
  const has = new Set(exportNames);
  if (has.has("describe") && has.has("call")) return "describe_v1";
  if (has.has("list_tools") && has.has("call_tool")) return "mcp_v2";
  return undefined;
}

/**
 * What can be known without running the plugin: which exports belong to the interface. The tools
 * themselves come from `describePlugin`, which asks the plugin at load.
 */
export function discoverDescribing(spec: ModuleSpec, info: WasmInfo, iface: PluginInterface): Discovery {
  const { label, call, exports } = INTERFACES[iface];
  const decisions: ExportDecision[] = info.functions.map((fn) => {
    const signature = formatSignature(fn.signature, fn.paramNames);
    if (fn.name === call) return { export: fn.name, signature, pattern: iface, rule: `${label}: runs every tool the plugin lists` };
    if (exports.includes(fn.name)) return { export: fn.name, signature, rule: `${label}: part of the interface, never a tool itself` };
    return { export: fn.name, signature, rule: `not a tool: the plugin describes its own tools (${label})` };
  });
  const warnings = spec.tools
    .filter((t) => t.pattern || t.input_schema || t.arguments)
    .map((t) => `tools.${t.function_name}: pattern, input_schema and arguments are ignored: the plugin describes its own tools and schemas`);
  return { abi: "extism", interface: iface, tools: [], decisions, warnings };
}

/** Runs one export of the plugin with a text input (through the worker pool, with a deadline). */
export type RunExport = (fn: string, input: string) => Promise<string>;

/** Identifies the request a plugin call serves; interface 2 passes it to the plugin as its context. */
export interface RequestInfo {
  id?: string | number;
  /** The request's `_meta` (it carries the progressToken). */
  meta?: Record<string, unknown>;
}

const LOAD_REQUEST: RequestInfo = { id: "wasmforge-load" };

/** Asks the plugin for its tools (and, for interface 2, its prompts and resources) and checks them. */
export async function describePlugin(spec: ModuleSpec, info: WasmInfo, discovery: Discovery, run: RunExport): Promise<Discovery> {
  const iface = discovery.interface;
  if (!iface) return discovery;
  const { list, call } = INTERFACES[iface];
  const exported = new Set(info.functions.map((f) => f.name));
  const listInput = iface === "describe_v1" ? "" : JSON.stringify({ context: pluginContext(LOAD_REQUEST) });
  const listed = checkPluginJson(specTypeSchemas.ListToolsResult, parsePluginJson(await run(list, listInput), list), list);

  const overrides = new Map(spec.tools.map((t) => [t.function_name, t]));
  const hiddenByPattern = hiddenToolMatcher(spec.hiddenTools);
  const warnings = [...discovery.warnings];
  const tools: ToolDef[] = [];
  const seen = new Set<string>();
  for (const t of listed.tools) {
    if (seen.has(t.name)) throw new Error(`${list} lists the tool "${t.name}" twice`);
    seen.add(t.name);
    const override = overrides.get(t.name);
    if (override?.hidden || hiddenByPattern(t.name)) continue;
    const base = override?.name ?? t.name;
    const name = (spec.toolPrefix ?? "") + base;
    if (!isValidToolName(base)) {
      throw new Error(
        `${list} returned the tool name "${base}", which breaks the naming rule (1-64 letters, digits, "_" or "-"); ` +
          `rename it in the config: [[modules.tools]] function_name = "${t.name}", name = "${toolNameFromExport(t.name)}"`,
      );
    }
    const problem = toolNameProblem(base, spec.toolPrefix);
    if (problem) throw new Error(`tool "${t.name}": ${problem}`);
    const inputSchema = checkDeclaredSchema(t.inputSchema, `${list}: tool "${t.name}" has an invalid inputSchema`);
    const outputSchema = t.outputSchema && checkDeclaredSchema(t.outputSchema, `${list}: tool "${t.name}" has an invalid outputSchema`);
    tools.push({
      name,
      description: override?.description ?? t.description ?? `${t.title ?? t.name} (module "${spec.name}")`,
      inputSchema,
      outputSchema,
      title: t.title,
      annotations: t.annotations,
      module: spec.name,
      function: call,
      shape: { pattern: "extism" },
      timeoutMs: override?.timeout_ms,
      plugin: { interface: iface, tool: t.name },
    });
  }
  for (const name of overrides.keys()) {
    if (!seen.has(name)) warnings.push(`tools: function_name "${name}" is not a tool the plugin lists (it lists: ${[...seen].join(", ") || "none"})`);
  }
  const offers = iface === "mcp_v2" ? await listOffers(exported, run) : undefined;
  return { ...discovery, tools, warnings, offers };
}

async function listOffers(exported: Set<string>, run: RunExport): Promise<PluginOffers | undefined> {
  const input = JSON.stringify({ context: pluginContext(LOAD_REQUEST) });
  const ask = async <T>(fn: string, schema: Parser<T>): Promise<T | undefined> =>
    exported.has(fn) ? checkPluginJson(schema, parsePluginJson(await run(fn, input), fn), fn) : undefined;
  // Prompts need get_prompt and resources need read_resource to be of any use; lists without them are left out.
  const prompts = exported.has("get_prompt") ? (await ask("list_prompts", specTypeSchemas.ListPromptsResult))?.prompts ?? [] : [];
  const canRead = exported.has("read_resource");
  const resources = canRead ? (await ask("list_resources", specTypeSchemas.ListResourcesResult))?.resources ?? [] : [];
  const resourceTemplates = canRead ? (await ask("list_resource_templates", specTypeSchemas.ListResourceTemplatesResult))?.resourceTemplates ?? [] : [];
  if (prompts.length + resources.length + resourceTemplates.length === 0) return undefined;
  return { prompts, resources, resourceTemplates };
}

/** The context interface 2 passes with every request: the MCP request's id and `_meta`. */
export function pluginContext(request: RequestInfo): { id: string | number; _meta: Record<string, unknown> } {
  return { id: request.id ?? "wasmforge", _meta: request.meta ?? {} };
}
