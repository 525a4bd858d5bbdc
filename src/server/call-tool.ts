// The life of one tools/call inside the host: find the tool, check its arguments, run it in the
// module, and turn what came back into an MCP result. Argument mistakes and module failures are
// tool errors (isError), so the model can correct itself; an unknown tool is a protocol error.

import type { CallToolResult } from "@modelcontextprotocol/server";
import { writeLog } from "../core/log.js";
import { valueText, type CallInput, type CallValue } from "../runtime/protocol.js";
import { ArgumentError, checkArguments, toCallInput } from "./arguments.js";
import type { Catalog } from "./catalog.js";
import type { CallContext, RunModule } from "./context.js";
import { invalidParams } from "./errors.js";
import { NeedsInput } from "./input.js";
import { parseToolResult, toolCallInput } from "./plugin-codec.js";
import { PluginOutputError } from "../discovery/plugin-json.js";
import type { CallShape, ToolDef } from "../discovery/types.js";

export async function callTool(catalog: Catalog, name: string, args: unknown, ctx: CallContext, run: RunModule): Promise<CallToolResult> {
  const served = catalog.tools.get(name);
  if (!served) throw invalidParams(`Unknown tool: "${name}". Call tools/list for the available tools.`);
  const { tool, module } = served;
  const say = ctx.log ?? writeLog;
  let input: CallInput;
  try {
    const checked = checkArguments(tool, args);
    input = tool.plugin ? { kind: "text", text: toolCallInput(tool.plugin, checked, ctx.request ?? {}) } : toCallInput(tool, checked);
  } catch (err) {
    if (err instanceof ArgumentError) return errorResult(err.message);
    throw err;
  }
  const outcome = await run(module, ctx, { fn: tool.function, shape: tool.shape, input, timeoutMs: tool.timeoutMs ?? module.spec.timeoutMs });
  if (!outcome.ok && outcome.reason === "input") throw new NeedsInput(outcome.requests);
  if (!outcome.ok) {
    say("debug", `call ${name} failed (${outcome.reason}): ${outcome.error}`);
    return errorResult(`tool "${name}" failed: ${outcome.error}`);
  }
  if (tool.shape.pattern === "component") return componentResult(tool, tool.shape, outcome.value);
  if (!tool.plugin) return toToolResult(outcome.value, tool.shape.pattern);
  try {
    // The plugin's own result, content (images, resources) and structuredContent as it gave them.
    return parseToolResult(tool, valueText(outcome.value));
  } catch (err) {
    if (!(err instanceof PluginOutputError)) throw err;
    say("warn", `[${module.spec.name}] tool "${name}": ${err.message}`);
    return errorResult(`tool "${name}" failed: ${err.message}`);
  }
}

export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}

/**
 * A component function's result: its value as text (a string as it is, anything else as JSON) and,
 * when the tool has an output schema, as `structuredContent: {"result": …}` in wassette's form. A
 * `result<T, E>` that came back `err` is a tool error whose text is E.
 */
function componentResult(tool: ToolDef, shape: Extract<CallShape, { pattern: "component" }>, value: CallValue): CallToolResult {
  const json = value.kind === "json" ? value.value : valueText(value);
  if (shape.result?.kind === "result" && isObject(json)) {
    if ("err" in json) return errorResult(jsonText(json.err) || `tool "${tool.name}" failed (the component returned an error with no value)`);
    const text = jsonText(json.ok);
    return { content: text ? [{ type: "text", text }] : [], structuredContent: { result: json } };
  }
  const text = jsonText(json);
  const result: CallToolResult = { content: text ? [{ type: "text", text }] : [] };
  if (tool.outputSchema) result.structuredContent = { result: json };
  return result;
}

function jsonText(value: unknown): string {
  if (typeof value === "string") return value;
  return value === null || value === undefined ? "" : JSON.stringify(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function toToolResult(value: CallValue, pattern: string): CallToolResult {
  if (value.kind === "json") return { content: [{ type: "text", text: valueText(value) }] };
  if (value.kind === "number") return { content: [{ type: "text", text: String(value.value) }], structuredContent: { result: jsonNumber(value.value) } };
  const result: CallToolResult = { content: [{ type: "text", text: value.text }] };
  if (pattern !== "extism") {
    const structured = parseJsonObject(value.text);
    if (structured) result.structuredContent = structured;
  }
  return result;
}

/**
 * A number as JSON carries it: integers beyond ±2^53 (i64 results) and the floats JSON has no form
 * for (Infinity, NaN) become strings, so nothing is rounded or lost on the way to the client.
 */
function jsonNumber(value: number | bigint): number | string {
  if (typeof value === "bigint") return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
  return Number.isFinite(value) ? value : String(value);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
