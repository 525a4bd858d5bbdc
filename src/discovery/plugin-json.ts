// What a plugin says is untrusted input. Its JSON is parsed and checked against the MCP SDK's own
// zod schemas, so whatever is served is something every client accepts; the schemas it declares
// for its tools must compile. Used at load (describing.ts) and on every call (server/plugin-codec.ts).

import { formatKeyPath } from "../core/format.js";
import { compileSchema, type JsonSchema } from "../core/json-schema.js";

/** The plugin broke its contract: its output is not what the interface says. */
export class PluginOutputError extends Error {}

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** What a zod schema offers, without tying this file to one zod major. */
export interface Parser<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: Issue[] } };
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
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 3).map((i) => `${formatKeyPath(i.path)}: ${i.message}`);
  const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : "";
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
