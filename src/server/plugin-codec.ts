// The calls of plugins that describe themselves (hyper-mcp, mcp.run), on every request: the JSON
// their call, prompt and resource exports are given, and how their answers become MCP results.

import {
  specTypeSchemas,
  type CallToolResult,
  type GetPromptResult,
  type LoggingMessageNotification,
  type ProgressNotification,
  type ReadResourceResult,
} from "@modelcontextprotocol/server";
import { compileSchema, problemsText, type JsonSchema, type Validator } from "../core/json-schema.js";
import { pluginContext, type RequestInfo } from "../discovery/describing.js";
import { checkPluginJson, parsePluginJson, PluginOutputError } from "../discovery/plugin-json.js";
import type { ToolDef } from "../discovery/types.js";
import type { MessageMethod } from "../runtime/host-functions.js";

/** The input of the plugin's call export for one tool call. */
export function toolCallInput(plugin: NonNullable<ToolDef["plugin"]>, args: Record<string, unknown>, request: RequestInfo): string {
  const params = { name: plugin.tool, arguments: args };
  // mcp.run's schema has the method beside the params; some servlets check it.
  if (plugin.interface === "describe_v1") return JSON.stringify({ method: "tools/call", params });
  return JSON.stringify({ request: params, context: pluginContext(request) });
}

export function promptInput(name: string, args: Record<string, string> | undefined, request: RequestInfo): string {
  return JSON.stringify({ request: { name, ...(args ? { arguments: args } : {}) }, context: pluginContext(request) });
}

export function resourceInput(uri: string, request: RequestInfo): string {
  return JSON.stringify({ request: { uri }, context: pluginContext(request) });
}

const outputValidators = new WeakMap<JsonSchema, Validator>();

export function parseToolResult(tool: ToolDef, text: string): CallToolResult {
  const fn = tool.function;
  const result = checkPluginJson(specTypeSchemas.CallToolResult, parsePluginJson(text, fn), fn);
  if (tool.outputSchema && !result.isError) {
    if (!result.structuredContent) throw new PluginOutputError(`${fn} returned no structuredContent, but the tool declares an outputSchema`);
    let validate = outputValidators.get(tool.outputSchema);
    if (!validate) outputValidators.set(tool.outputSchema, (validate = compileSchema(tool.outputSchema)));
    const problems = validate(result.structuredContent);
    if (problems.length > 0) {
      throw new PluginOutputError(`${fn} returned structuredContent that does not match the tool's outputSchema: ${problemsText(problems)}`);
    }
  }
  return result;
}

export function parsePromptResult(text: string): GetPromptResult {
  return checkPluginJson(specTypeSchemas.GetPromptResult, parsePluginJson(text, "get_prompt"), "get_prompt");
}

export function parseReadResult(text: string): ReadResourceResult {
  return checkPluginJson(specTypeSchemas.ReadResourceResult, parsePluginJson(text, "read_resource"), "read_resource");
}

export type PluginNotification =
  | { method: "notifications/message"; params: LoggingMessageNotification["params"] }
  | { method: "notifications/progress"; params: ProgressNotification["params"] };

/** A notification a plugin sent through notify_logging_message or notify_progress. */
export function parseNotification(method: MessageMethod, text: string): PluginNotification {
  const fn = method === "notifications/message" ? "notify_logging_message" : "notify_progress";
  const json = parsePluginJson(text, fn);
  return method === "notifications/message"
    ? { method, params: checkPluginJson(specTypeSchemas.LoggingMessageNotificationParams, json, fn) }
    : { method, params: checkPluginJson(specTypeSchemas.ProgressNotificationParams, json, fn) };
}
