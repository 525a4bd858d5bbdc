// WASImancer's shapes (plugins.yml entries and the `pluginData` of its publish scripts,
// resources.yml, prompts.yml) turned into WasmForge config tables, in the config's own shape.
// Used by `wasmforge import` and by the admin API's WASImancer-compatible routes.

import { z } from "zod";
import { isValidToolName, moduleNameFrom, toolNameFromExport } from "../core/naming.js";
import type { moduleEntry, RawPrompt, RawResource, RawResourceTemplate } from "./schema.js";

/** A `[[modules]]` table as it would be written in wasmforge.toml. */
export type ModuleTable = z.input<typeof moduleEntry>;
type ToolTable = NonNullable<ModuleTable["tools"]>[number];

// WASImancer's files are foreign input: unknown keys are tolerated (and reported where dropped).
const wasimancerArgument = z.looseObject({
  name: z.string().min(1),
  type: z.string().optional(),
  description: z.string().optional(),
});

const wasimancerFunction = z.looseObject({
  displayName: z.string().min(1).optional(),
  function: z.string().min(1),
  description: z.string().optional(),
  arguments: z.array(wasimancerArgument).nullish(),
});

export const wasimancerPlugin = z.looseObject({
  name: z.string().min(1),
  /** Where WASImancer kept the file, relative to its plugins directory. The admin API ignores it. */
  path: z.string().optional(),
  version: z.union([z.string(), z.number()]).optional(),
  description: z.string().optional(),
  functions: z.array(wasimancerFunction).min(1, "expected at least one function"),
});
export type WasimancerPlugin = z.infer<typeof wasimancerPlugin>;

export const pluginsFile = z.looseObject({ plugins: z.array(wasimancerPlugin).default([]) });

const content = z.looseObject({ text: z.string().optional(), mimeType: z.string().optional() });
const staticResource = z.looseObject({
  name: z.string().min(1),
  uri: z.string().min(1),
  description: z.string().optional(),
  contents: z.array(content).default([]),
});
const dynamicResource = staticResource.extend({ arguments: z.array(wasimancerArgument).nullish() });

export const resourcesFile = z.looseObject({
  resources: z.looseObject({
    static: z.array(staticResource).nullish(),
    dynamic: z.array(dynamicResource).nullish(),
  }),
});

const prompt = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  arguments: z.array(wasimancerArgument).nullish(),
  messages: z.array(z.looseObject({ text: z.string(), role: z.string() })).min(1),
});

export const promptsFile = z.looseObject({ prompts: z.looseObject({ predefined: z.array(prompt).nullish() }) });

/** What a conversion produced, and what it had to change or drop on the way (for the user). */
export interface Converted<T> {
  value: T;
  notes: string[];
}

const ARGUMENT_TYPES = ["string", "number", "integer", "boolean", "object", "array"] as const;
type ArgumentType = (typeof ARGUMENT_TYPES)[number];

function argumentType(a: z.infer<typeof wasimancerArgument>): ArgumentType | undefined {
  const type = (a.type ?? "").toLowerCase();
  return ARGUMENT_TYPES.find((t) => t === type);
}

/**
 * A WASImancer plugin as a module table (without `path`: where the file lives is the caller's
 * business). Each function becomes a `[[modules.tools]]` override; `version` has no equivalent.
 */
export function pluginToModule(plugin: WasimancerPlugin): Converted<ModuleTable> {
  const notes: string[] = [];
  const name = moduleNameFrom(plugin.name);
  if (name !== plugin.name) notes.push(`plugin "${plugin.name}" became module "${name}" (module names allow 1-64 letters, digits, "_" and "-")`);
  const tools = plugin.functions.map((fn) => functionToTool(plugin.name, fn, notes));
  const module: ModuleTable = { name, ...(plugin.description ? { description: plugin.description } : {}), tools };
  return { value: module, notes };
}

function functionToTool(plugin: string, fn: z.infer<typeof wasimancerFunction>, notes: string[]): ToolTable {
  const wanted = fn.displayName ?? fn.function;
  const name = isValidToolName(wanted) ? wanted : toolNameFromExport(wanted);
  if (name !== wanted) notes.push(`plugin "${plugin}": tool name "${wanted}" became "${name}" (tool names allow 1-64 letters, digits, "_" and "-")`);
  const tool: ToolTable = { function_name: fn.function, name, ...(fn.description ? { description: fn.description } : {}) };
  const args = fn.arguments ?? [];
  if (args.length === 0) return tool;
  const types = args.map(argumentType);
  if (!types.includes(undefined)) {
    // WASImancer makes every argument required, as `required` does by default.
    tool.arguments = args.map((a, i) => ({ name: a.name, type: types[i]!, ...(a.description ? { description: a.description } : {}) }));
    return tool;
  }
  // WASImancer accepts anything (z.any()) for another type: a JSON Schema without a type says the same.
  args.forEach((a, i) => {
    if (!types[i]) notes.push(`plugin "${plugin}", function "${fn.function}": argument "${a.name}" has type "${a.type ?? ""}"; any JSON value is accepted for it`);
  });
  tool.input_schema = {
    type: "object",
    properties: Object.fromEntries(
      args.map((a, i) => [a.name, { ...(types[i] ? { type: types[i] } : {}), ...(a.description ? { description: a.description } : {}) }]),
    ),
    required: args.map((a) => a.name),
  };
  return tool;
}

/**
 * WASImancer serves only the functions a plugin lists; WasmForge serves every Extism function a
 * module exports. Hides the others (`exportedTools`: the export names discovery found as tools).
 */
export function hideUnlisted(module: ModuleTable, exportedTools: string[]): string[] {
  const listed = new Set((module.tools ?? []).map((t) => t.function_name));
  const hidden = exportedTools.filter((fn) => !listed.has(fn));
  module.tools = [...(module.tools ?? []), ...hidden.map((fn) => ({ function_name: fn, hidden: true }))];
  return hidden;
}

/** WASImancer's `${name}` placeholders as WasmForge's `{{name}}`. */
export function convertPlaceholders(text: string): string {
  return text.replace(/\$\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}/g, "{{$1}}");
}

type ResourceTable = Omit<RawResource, "path">;
type TemplateTable = RawResourceTemplate;

export function convertResources(data: z.infer<typeof resourcesFile>): Converted<{ resources: ResourceTable[]; resource_templates: TemplateTable[] }> {
  const notes: string[] = [];
  const resources = (data.resources.static ?? []).map((r) => ({
    name: r.name,
    uri: r.uri,
    ...(r.description ? { description: r.description } : {}),
    ...contentOf(`resource "${r.name}"`, r.contents, notes, (t) => t),
  }));
  const resource_templates = (data.resources.dynamic ?? []).map((r) => ({
    name: r.name,
    uri_template: r.uri,
    ...(r.description ? { description: r.description } : {}),
    ...contentOf(`resource template "${r.name}"`, r.contents, notes, convertPlaceholders),
  }));
  return { value: { resources, resource_templates }, notes };
}

/** WASImancer resources hold a list of contents; a WasmForge resource holds one text. */
function contentOf(what: string, contents: z.infer<typeof content>[], notes: string[], map: (text: string) => string): { text: string; mime_type?: string } {
  if (contents.length > 1) notes.push(`${what}: its ${contents.length} contents were joined into one text, separated by blank lines`);
  const dropped = new Set(contents.flatMap((c) => Object.keys(c).filter((k) => k !== "text" && k !== "mimeType" && k !== "uri")));
  if (dropped.size) notes.push(`${what}: dropped content keys ${[...dropped].map((k) => `"${k}"`).join(", ")} (only text and mimeType carry over)`);
  const mimeType = contents.find((c) => c.mimeType)?.mimeType;
  return { text: map(contents.map((c) => c.text ?? "").join("\n\n")), ...(mimeType ? { mime_type: mimeType } : {}) };
}

export function convertPrompts(data: z.infer<typeof promptsFile>): Converted<RawPrompt[]> {
  const prompts = (data.prompts.predefined ?? []).map((p): RawPrompt => ({
    name: p.name,
    ...(p.description ? { description: p.description } : {}),
    // WASImancer requires every prompt argument.
    arguments: (p.arguments ?? []).map((a) => ({ name: a.name, ...(a.description ? { description: a.description } : {}), required: true })),
    messages: p.messages.map((m, i) => {
      if (m.role !== "user" && m.role !== "assistant") {
        throw new Error(`prompt "${p.name}", messages[${i}]: role "${m.role}" is not one MCP knows; use "user" or "assistant"`);
      }
      return { role: m.role, text: convertPlaceholders(m.text) };
    }),
  }));
  return { value: prompts, notes: [] };
}
