// `wasmforge call TOOL [JSON_ARGS]`: runs one tool once, exactly as `serve` would (same argument
// checks, workers, limits), and prints its result — no MCP client needed.

import { readFileSync } from "node:fs";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { findConfig, loadConfig } from "../config/load.js";
import { log } from "../core/log.js";
import { ToolHost } from "../server/host.js";
import { NeedsInput } from "../server/input.js";

export interface CallOptions {
  config?: string;
  json?: boolean;
}

class ArgumentsError extends Error {}

/** Prints the result on stdout; returns 1 (after printing why on stderr) if the call did not succeed. */
export async function call(toolName: string, rawArgs: string | undefined, options: CallOptions): Promise<number> {
  let args: Record<string, unknown>;
  try {
    args = parseArguments(rawArgs === "-" ? readFileSync(0, "utf8") : rawArgs);
  } catch (err) {
    if (!(err instanceof ArgumentsError)) throw err;
    log.error(err.message);
    return 1;
  }
  const config = loadConfig(findConfig(options.config));
  // One call needs one worker; the default pool would start several for nothing.
  const host = await ToolHost.start({ ...config, server: { ...config.server, pool_size: 1 } });
  const cancel = new AbortController();
  const onSigint = () => cancel.abort();
  process.once("SIGINT", onSigint);
  try {
    if (!host.current.tools.has(toolName)) {
      log.error(unknownTool(toolName, host));
      return 1;
    }
    let result: CallToolResult;
    try {
      result = await host.callTool(toolName, args, { signal: cancel.signal });
    } catch (err) {
      if (!(err instanceof NeedsInput)) throw err;
      const asked = Object.entries(err.requests).map(([key, r]) => `${key}: ${r.method}`).join(", ");
      log.error(`tool "${toolName}" asks its client for input (${asked}), which \`wasmforge call\` cannot answer; call it from an MCP client`);
      return 1;
    }
    if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    if (result.isError) {
      log.error(contentText(result) || `tool "${toolName}" failed without a message`);
      return 1;
    }
    if (!options.json) {
      const text = contentText(result);
      process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
    }
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    await host.close();
  }
}

/** JSON_ARGS must be one JSON object; no argument means `{}`. */
export function parseArguments(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new ArgumentsError(
      `JSON_ARGS is not valid JSON (${(err as Error).message}): ${quote(raw)}. ` +
        `Pass one JSON object in single quotes, e.g. '{"a": 5, "b": 3}'`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const got = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new ArgumentsError(`JSON_ARGS must be a JSON object of named arguments, e.g. '{"a": 5, "b": 3}'; got ${got}`);
  }
  return value as Record<string, unknown>;
}

function quote(raw: string): string {
  return raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
}

function unknownTool(name: string, host: ToolHost): string {
  const names = [...host.current.tools.keys()];
  const served = names.length > 0 ? `it serves: ${names.join(", ")}` : "it serves no tools";
  // Modules that failed to load were already reported (as errors) when the host started.
  const failed = host.current.failures.length > 0 ? ` (${host.current.failures.length} module(s) did not load, see above)` : "";
  return `unknown tool "${name}" in ${host.config.file}: ${served}${failed}. Run "wasmforge tools" for details.`;
}

function contentText(result: CallToolResult): string {
  return result.content.map((item) => (item.type === "text" ? item.text : JSON.stringify(item))).join("\n");
}
