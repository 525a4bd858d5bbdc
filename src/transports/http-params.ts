// SEP-2243: a tool's schema may mark an argument `x-mcp-header: "Region"`, and a 2026-07-28 client
// then sends it as the `Mcp-Param-Region` header too, so proxies can route on it; the header and
// the body must agree. The SDK checks this only for servers built with McpServer (WasmForge uses
// the low-level Server with raw JSON Schemas), so this file does it for tools/call.

import type { JsonSchema } from "../core/json-schema.js";

const BASE64_PREFIX = "=?base64?";
const BASE64_SUFFIX = "?=";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const HEADER_MISMATCH = -32020;

interface Declaration {
  path: string[];
  header: string;
  type?: unknown;
}

function declarations(schema: unknown, path: string[] = [], out: Declaration[] = []): Declaration[] {
  if (!schema || typeof schema !== "object") return out;
  const s = schema as Record<string, unknown>;
  if (path.length > 0 && typeof s["x-mcp-header"] === "string") out.push({ path, header: s["x-mcp-header"], type: s.type });
  const properties = s.properties && typeof s.properties === "object" ? (s.properties as Record<string, unknown>) : {};
  for (const [key, value] of Object.entries(properties)) declarations(value, [...path, key], out);
  return out;
}

function primitive(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function decode(value: string): string | undefined {
  if (!(value.startsWith(BASE64_PREFIX) && value.endsWith(BASE64_SUFFIX))) return value;
  const encoded = value.slice(BASE64_PREFIX.length, -BASE64_SUFFIX.length);
  if (!BASE64.test(encoded)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(encoded, "base64"));
  } catch {
    return undefined;
  }
}

/** A 400 answer when a tools/call's Mcp-Param-* headers disagree with its arguments, else undefined. */
export function checkParamHeaders(request: Request, body: unknown, schemaOf: (tool: string) => JsonSchema | undefined): Response | undefined {
  if (!body || typeof body !== "object" || (body as { method?: unknown }).method !== "tools/call") return undefined;
  const { id = null, params } = body as { id?: unknown; params?: { name?: unknown; arguments?: unknown } };
  if (typeof params?.name !== "string") return undefined;
  const schema = schemaOf(params.name);
  if (!schema) return undefined;
  for (const declared of declarations(schema)) {
    let value: unknown = params.arguments;
    for (const key of declared.path) value = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
    const bodyText = value === undefined || value === null ? undefined : primitive(value);
    if (bodyText === undefined) continue;
    const name = `Mcp-Param-${declared.header}`;
    const fail = (why: string) =>
      Response.json(
        { jsonrpc: "2.0", id, error: { code: HEADER_MISMATCH, message: `Bad Request: the request headers and body disagree: ${why}`, data: { mismatch: { header: name } } } },
        { status: 400 },
      );
    const header = request.headers.get(name);
    if (header === null) return fail(`the body carries ${declared.path.join(".")} but the ${name} header is absent`);
    const decoded = decode(header.trim());
    if (decoded === undefined) return fail(`the ${name} header carries an invalid Base64 value`);
    const numeric = (declared.type === "integer" || declared.type === "number") && typeof value === "number" && DECIMAL.test(decoded);
    if (numeric ? Number(decoded) !== value : decoded !== bodyText) {
      return fail(`the ${name} header is ${JSON.stringify(decoded)} but the body carries ${JSON.stringify(value)}`);
    }
  }
  return undefined;
}
