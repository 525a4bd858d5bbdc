// What a plugin says is untrusted input. Its JSON is parsed and checked against the MCP SDK's own
// zod schemas, so whatever is served is something every client accepts; the schemas it declares
// for its tools must compile. Used at load (describing.ts) and on every call (server/plugin-codec.ts).

import { formatKeyPath } from "../core/format.js";
import { compileSchema, type JsonSchema } from "../core/json-schema.js";

/** The plugin broke its contract: its output is not what the interface says. */
export class PluginOutputError extends Error {}

/** A Standard Schema validator, as the SDK's specTypeSchemas are (synchronous). */
export interface Parser<T> {
  readonly "~standard": {
    validate(value: unknown): { value: T; issues?: undefined } | { issues: readonly { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] }[] } | Promise<unknown>;
  };
}

export function parsePluginJson(text: string, fn: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    throw new PluginOutputError(`${fn} returned text that is not valid JSON (${(err as Error).message}): ${JSON.stringify(shown)}`);
  }
}

export function checkPluginJson<T>(schema: Parser<T>, value: unknown, fn: string): T {
  const checked = schema["~standard"].validate(value);
  if (checked instanceof Promise) throw new Error("the SDK's spec schemas are synchronous");
  const result = checked as { value: T; issues?: undefined } | { issues: readonly { message: string; path?: readonly (PropertyKey | { key: PropertyKey })[] }[] };
  if (!result.issues) return result.value;
  const path = (p?: readonly (PropertyKey | { key: PropertyKey })[]) => formatKeyPath((p ?? []).map((k) => (typeof k === "object" ? k.key : k)));
  const issues = result.issues.slice(0, 3).map((i) => `${path(i.path)}: ${i.message}`);
  const more = result.issues.length > 3 ? ` (and ${result.issues.length - 3} more)` : "";
  throw new PluginOutputError(`${fn} returned JSON that does not fit the MCP schema: ${issues.join("; ")}${more}`);
}

/** A schema a plugin declares, served as it was given once it compiles (in the dialect it names). */
export function checkDeclaredSchema(schema: JsonSchema, what: string): JsonSchema {
  try {
    compileSchema(schema);
  } catch (err) {
    throw new PluginOutputError(`${what}: ${(err as Error).message}`);
  }
  return schema;
}
