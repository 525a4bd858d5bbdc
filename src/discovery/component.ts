// Tools from a WebAssembly component (WASI 0.2): every exported function, and every function of an
// exported interface, is a tool named as wassette names it, with a schema worked out from its WIT
// types (component-schema.ts). Runs on the component's binary alone — no transpiling — so it is
// cheap enough for every reload.

import type { ModuleSpec } from "../config/load.js";
import { hiddenToolMatcher, toolNameProblem } from "../core/naming.js";
import { witSignature, type ComponentInfo, type WitFunction } from "../wasm/component.js";
import { componentInputSchema, componentOutputSchema, componentToolName, unsupportedIn } from "./component-schema.js";
import type { Discovery, ExportDecision, ToolDef } from "./types.js";

/** `wasmforge:kitchen/types@0.1.0#next-char`, or `greet` at world level. */
export function qualifiedName(fn: Pick<WitFunction, "interface" | "name">): string {
  return fn.interface ? `${fn.interface}#${fn.name}` : fn.name;
}

/** Why a function cannot be a tool, or undefined when it can. */
function skipReason(fn: WitFunction): string | undefined {
  if (fn.untyped) return "its type could not be read from the component";
  if (fn.async) return "component-model async functions (WASI 0.3) are not supported";
  const unsupported = fn.params.map((p) => unsupportedIn(p.type)).find(Boolean) ?? unsupportedIn(fn.result);
  return unsupported ? `takes or returns ${unsupported}, which has no JSON form` : undefined;
}

/**
 * `[[modules.tools]] function_name` names a function by its tool name as wassette gives it
 * (`read-file`, `wasmforge_kitchen_types_0_1_0_divide`); `name`, `description`, `hidden` and
 * `timeout_ms` apply as for any module.
 */
export function discoverComponent(spec: ModuleSpec, info: ComponentInfo): Discovery {
  const overrides = new Map(spec.tools.map((t) => [t.function_name, t]));
  const hiddenByPattern = hiddenToolMatcher(spec.hiddenTools);
  const tools: ToolDef[] = [];
  const decisions: ExportDecision[] = [];
  const warnings: string[] = [];
  const keys = new Map<string, string>();

  for (const fn of info.functions) {
    const key = componentToolName(fn);
    const qualified = qualifiedName(fn);
    const signature = ` [${fn.interface ? `${fn.interface} ` : ""}${witSignature(fn)}]`;
    const override = overrides.get(key);
    const skip = (rule: string) => decisions.push({ export: key, signature, rule });
    const clash = keys.get(key);
    if (clash) {
      skip(`its tool name "${key}" is also the name of ${clash}; only the first is served`);
      continue;
    }
    keys.set(key, qualified);
    const why = skipReason(fn);
    if (why) {
      skip(why);
      if (override && !override.hidden) warnings.push(`tools.${key}: not served: ${why}`);
      continue;
    }
    if (override?.pattern || override?.input_schema || override?.arguments || override?.input) {
      warnings.push(`tools.${key}: pattern, input_schema, arguments and input do not apply to a component: its WIT types give the schema`);
    }
    if (override?.hidden || hiddenByPattern(key)) {
      decisions.push({ export: key, signature, pattern: "component", rule: override?.hidden ? "hidden by config" : "hidden by config (hidden_tools)" });
      continue;
    }
    const base = override?.name ?? key;
    const problem = toolNameProblem(base, spec.toolPrefix);
    if (problem) {
      const fix = override?.name ? "" : `; name it in the config: [[modules.tools]] function_name = "${key}", name = "…"`;
      warnings.push(`tools.${key}: ${problem}${fix}`);
      skip(`invalid tool name "${(spec.toolPrefix ?? "") + base}"`);
      continue;
    }
    decisions.push({ export: key, signature, pattern: "component", rule: `${fn.interface ? `function of exported interface ${fn.interface}` : "exported function"}` });
    const from = spec.description ? `${spec.description}: ` : "";
    const outputSchema = componentOutputSchema(fn);
    tools.push({
      name: (spec.toolPrefix ?? "") + base,
      description: override?.description ?? `${from}${fn.docs ?? `${qualified}: ${witSignature(fn).replace(/^[^:]*: /, "")}`}`,
      inputSchema: componentInputSchema(fn),
      ...(outputSchema ? { outputSchema } : {}),
      module: spec.name,
      function: key,
      shape: { pattern: "component", ...(fn.interface ? { interface: fn.interface } : {}), function: fn.name, params: fn.params, ...(fn.result ? { result: fn.result } : {}) },
      timeoutMs: override?.timeout_ms,
    });
  }
  for (const name of overrides.keys()) {
    if (!keys.has(name)) warnings.push(`tools: function_name "${name}" is not a function of the component (its tools: ${[...keys.keys()].join(", ") || "none"})`);
  }
  if (spec.pluginConfig && Object.keys(spec.pluginConfig).length > 0) {
    warnings.push("config is not passed to components: a component's environment stays empty");
  }
  return { abi: "component", tools, decisions, warnings };
}
