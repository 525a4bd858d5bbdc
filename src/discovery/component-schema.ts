// WIT types → JSON Schema, following microsoft/wassette's component2json
// (crates/component2json/src/lib.rs: normalize_tool_name, type_to_json_schema,
// canonical_output_schema_for_results), so the same component gets the same tool names and the
// same shapes. WasmForge only narrows where wassette is loose: integers get `type: "integer"`
// with their range, where wassette says `{"type": "number"}`. The table is in the README
// ("Components (WASI 0.2)").

import type { JsonSchema } from "../core/json-schema.js";
import { WIT_INT_RANGES, type WitFunction, type WitType } from "../wasm/component.js";


/** component2json's normalize_name_component: lower case; `:` `/` `.` and anything else but [a-z0-9-] become `_`. */
export function normalizeNameComponent(name: string): string {
  return [...name.toLowerCase()].map((c) => (/^[a-z0-9-]$/.test(c) ? c : "_")).join("");
}

/** component2json's normalize_tool_name: `read-file`, or `wasmforge_kitchen_types_0_1_0_next-char` for an interface's function. */
export function componentToolName(fn: Pick<WitFunction, "interface" | "name">): string {
  return [fn.interface, fn.name].filter((p): p is string => p !== undefined).map(normalizeNameComponent).join("_");
}

/** The JSON Schema of a WIT value type (component2json's type_to_json_schema, integers narrowed). */
export function witSchema(t: WitType): JsonSchema {
  switch (t.kind) {
    case "bool":
      return { type: "boolean" };
    case "u8":
    case "s8":
    case "u16":
    case "s16":
    case "u32":
    case "s32":
    case "u64":
    case "s64": {
      // JSON numbers are doubles: 64-bit bounds become the nearest doubles, and values past ±2^53 lose precision.
      const [minimum, maximum] = WIT_INT_RANGES[t.kind]!.map(Number) as [number, number];
      return { type: "integer", minimum, maximum };
    }
    case "f32":
    case "f64":
      return { type: "number" };
    case "char":
      return { type: "string", description: "1 unicode codepoint" };
    case "string":
      return { type: "string" };
    case "list":
      return { type: "array", items: witSchema(t.element) };
    case "record":
      return {
        type: "object",
        properties: Object.fromEntries(t.fields.map((f) => [f.name, witSchema(f.type)])),
        required: t.fields.map((f) => f.name),
      };
    case "tuple": {
      const items = t.types.map(witSchema);
      return { type: "array", prefixItems: items, minItems: items.length, maxItems: items.length };
    }
    case "variant":
      return {
        oneOf: t.cases.map((c) =>
          c.type
            ? { type: "object", properties: { tag: { const: c.name }, val: witSchema(c.type) }, required: ["tag", "val"] }
            : { type: "object", properties: { tag: { const: c.name } }, required: ["tag"] },
        ),
      };
    case "enum":
      return { type: "string", enum: [...t.names] };
    case "flags":
      return { type: "object", properties: Object.fromEntries(t.names.map((n) => [n, { type: "boolean" }])) };
    case "option":
      return { anyOf: [{ type: "null" }, witSchema(t.type)] };
    case "result":
      return {
        oneOf: [
          { type: "object", properties: { ok: t.ok ? witSchema(t.ok) : { type: "null" } }, required: ["ok"] },
          { type: "object", properties: { err: t.err ? witSchema(t.err) : { type: "null" } }, required: ["err"] },
        ],
      };
    case "map":
      return { type: "array", items: { type: "object", properties: { key: witSchema(t.key), value: witSchema(t.value) }, required: ["key", "value"] } };
    // Never served (unsupportedIn skips them), but wassette has a form for each.
    case "own":
      return { type: "string", description: `own'd resource: ${t.resource.name ?? "resource"}` };
    case "borrow":
      return { type: "string", description: `borrow'd resource: ${t.resource.name ?? "resource"}` };
    case "future":
      return { type: "object", description: "Future type (async operation)" };
    case "stream":
      return { type: "array", description: "Stream type (async iteration)" };
    case "error-context":
    case "resource":
      return { type: "object", description: "Error context type" };
  }
}

/** The tool's input: every parameter a required property (wassette sends `null` for an absent option). */
export function componentInputSchema(fn: Pick<WitFunction, "params">): JsonSchema {
  return {
    type: "object",
    properties: Object.fromEntries(fn.params.map((p) => [p.name, witSchema(p.type)])),
    required: fn.params.map((p) => p.name),
  };
}

/** The result wrapped as `{"result": T}` (MCP wants an object), or none for a function without a result. */
export function componentOutputSchema(fn: Pick<WitFunction, "result">): JsonSchema | undefined {
  return fn.result ? { type: "object", properties: { result: witSchema(fn.result) }, required: ["result"] } : undefined;
}

/**
 * What keeps a type from being passed through JSON: a resource (its handle would have to outlive
 * the call), a future, stream or error-context (component-model async), a map (no JavaScript
 * binding yet). Undefined when the whole type tree has a JSON form.
 */
export function unsupportedIn(t: WitType | undefined): string | undefined {
  if (!t) return undefined;
  switch (t.kind) {
    case "own":
    case "borrow":
      return `resource ${t.resource.name ?? "(unnamed)"}`;
    case "resource":
      return "a resource";
    case "future":
    case "stream":
    case "error-context":
      return t.kind;
    case "map":
      return "map (the JavaScript bindings have no form for it yet)";
    case "list":
      return unsupportedIn(t.element);
    case "option":
      return unsupportedIn(t.type);
    case "result":
      return unsupportedIn(t.ok) ?? unsupportedIn(t.err);
    case "tuple":
      return first(t.types, unsupportedIn);
    case "record":
      return first(t.fields, (f) => unsupportedIn(f.type));
    case "variant":
      return first(t.cases, (c) => unsupportedIn(c.type));
    default:
      return undefined;
  }
}

function first<T>(items: T[], check: (item: T) => string | undefined): string | undefined {
  for (const item of items) {
    const found = check(item);
    if (found) return found;
  }
  return undefined;
}
