import type { ModuleSpec } from "../config/load.js";
import { detectInterface, discoverDescribing, INTERFACES } from "./describing.js";
import { classifyExtism, extismInputSchema, isExtismPlugin } from "./extism.js";
import { hiddenToolMatcher, toolNameFromExport, toolNameProblem } from "../core/naming.js";
import { classifyRaw, rawInputSchema, rawOutputSchema } from "./raw.js";
import type { Discovery, ExportDecision, ToolDef } from "./types.js";
import { formatSignature, type WasmInfo } from "../wasm/reader.js";

/** Works out which tools a module offers, from its exports and its config entry. */
export function discoverTools(spec: ModuleSpec, info: WasmInfo): Discovery {
  const abi = isExtismPlugin(info.imports) ? "extism" : "raw";
  // A plugin that describes its own tools is asked for them at load (describePlugin), unless the
  // config says `pattern = "extism"` for one of those exports: a plugin that merely has such names.
  const iface = abi === "extism" ? detectInterface(info.functions.map((f) => f.name)) : undefined;
  const plain = iface && spec.tools.some((t) => t.pattern === "extism" && INTERFACES[iface].exports.includes(t.function_name));
  if (iface && !plain) return discoverDescribing(spec, info, iface);
  const overrides = new Map(spec.tools.map((t) => [t.function_name, t]));
  const hiddenByPattern = hiddenToolMatcher(spec.hiddenTools);
  const tools: ToolDef[] = [];
  const decisions: ExportDecision[] = [];
  const warnings: string[] = [];

  for (const fn of info.functions) {
    const override = overrides.get(fn.name);
    const signature = formatSignature(fn.signature, fn.paramNames);
    const classified = abi === "extism" ? classifyExtism(fn, override) : classifyRaw(fn, override);
    if ("skip" in classified) {
      decisions.push({ export: fn.name, signature, rule: classified.skip });
      if (override?.pattern) warnings.push(`tools.${fn.name}: ${classified.skip}`);
      continue;
    }
    const { shape, rule } = classified;
    const pattern = shape.pattern === "numeric" ? numericPatternName(shape.params, shape.result) : shape.pattern;
    if (override?.hidden || hiddenByPattern(fn.name)) {
      decisions.push({ export: fn.name, signature, pattern, rule: override?.hidden ? "hidden by config" : "hidden by config (hidden_tools)" });
      continue;
    }
    const base = override?.name ?? toolNameFromExport(fn.name);
    const name = (spec.toolPrefix ?? "") + base;
    const problem = toolNameProblem(base, spec.toolPrefix);
    if (problem) {
      warnings.push(`tools.${fn.name}: ${problem}`);
      decisions.push({ export: fn.name, signature, pattern, rule: `invalid tool name "${name}"` });
      continue;
    }
    decisions.push({ export: fn.name, signature, pattern, rule });
    tools.push({
      name,
      description: override?.description ?? defaultDescription(fn.name, signature, spec),
      inputSchema: abi === "extism" ? extismInputSchema(override) : rawInputSchema(shape),
      outputSchema: abi === "extism" ? undefined : rawOutputSchema(shape),
      module: spec.name,
      function: fn.name,
      shape,
      timeoutMs: override?.timeout_ms,
    });
  }

  const exported = new Set(info.functions.map((f) => f.name));
  for (const name of overrides.keys()) {
    if (!exported.has(name)) {
      warnings.push(`tools: function_name "${name}" is not exported by the module (exports: ${[...exported].join(", ") || "none"})`);
    }
  }
  return { abi, tools, decisions, warnings };
}

function numericPatternName(params: string[], result: string): "i32_i32_to_i32" | "no_params_to_i32" | "numeric" {
  if (result !== "i32") return "numeric";
  if (params.length === 0) return "no_params_to_i32";
  if (params.length === 2 && params.every((p) => p === "i32")) return "i32_i32_to_i32";
  return "numeric";
}

function defaultDescription(exportName: string, signature: string, spec: ModuleSpec): string {
  const from = spec.description ? `${spec.description}: ` : "";
  return `${from}${exportName}${signature} (module "${spec.name}")`;
}
