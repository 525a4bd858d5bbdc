// mcp-pdk.ts — helpers shared by the plugins that describe their own tools (hyper-mcp's
// interface 1 `describe`/`call`, mcp.run servlets, and interface 2 `list_tools`/`call_tool`):
// raw access to nested JSON fields, the plugin's config, and Extism memory blocks.
//
// Like pdk.ts, only `extism:host/env` kernel functions are imported here; the
// `extism:host/user` notification functions are declared by the plugin that uses them.

import { JsonField, Kind, jsonString } from "./pdk";

@external("extism:host/env", "alloc")
declare function host_alloc(n: u64): u64;
@external("extism:host/env", "store_u8")
declare function host_store_u8(offs: u64, v: u8): void;
@external("extism:host/env", "load_u8")
declare function host_load_u8(offs: u64): u8;
@external("extism:host/env", "length")
declare function host_length(offs: u64): u64;
@external("extism:host/env", "config_get")
declare function host_config_get(offs: u64): u64;

/** Copies the UTF-8 encoding of s into a new Extism memory block; returns its offset. */
export function block(s: string): u64 {
  const buf = String.UTF8.encode(s);
  const n = buf.byteLength;
  const offs = host_alloc(<u64>n);
  const p = changetype<usize>(buf);
  for (let i = 0; i < n; i++) host_store_u8(offs + <u64>i, load<u8>(p + <usize>i));
  return offs;
}

function readBlock(offs: u64): string {
  const n = <i32>host_length(offs);
  const buf = new ArrayBuffer(n);
  const p = changetype<usize>(buf);
  for (let i = 0; i < n; i++) store<u8>(p + <usize>i, host_load_u8(offs + <u64>i));
  return String.UTF8.decode(buf);
}

/** A value from the plugin's config (the module's `config` table in wasmforge.toml), or "" when unset. */
export function config(key: string): string {
  const offs = host_config_get(block(key));
  return offs == 0 ? "" : readBlock(offs);
}

// ---------------------------------------------------------------- raw JSON fields

function isWs(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

function skipWs(s: string, i: i32): i32 {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Index just past the JSON string that opens at i, or -1 when it never closes. */
function skipString(s: string, i: i32): i32 {
  i++;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c == 0x5c) {
      i += 2;
      continue;
    }
    if (c == 0x22) return i + 1;
    i++;
  }
  return -1;
}

/** Index just past the JSON value that starts at i, or -1 when it is malformed. */
function skipValue(s: string, i: i32): i32 {
  i = skipWs(s, i);
  if (i >= s.length) return -1;
  const c = s.charCodeAt(i);
  if (c == 0x22) return skipString(s, i);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    while (i < s.length) {
      const d = s.charCodeAt(i);
      if (d == 0x22) {
        i = skipString(s, i);
        if (i < 0) return -1;
        continue;
      }
      if (d == 0x7b || d == 0x5b) depth++;
      else if (d == 0x7d || d == 0x5d) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  const start = i;
  while (i < s.length) {
    const d = s.charCodeAt(i);
    if (d == 0x2c || d == 0x7d || d == 0x5d || isWs(d)) break;
    i++;
  }
  return i > start ? i : -1;
}

/**
 * The JSON text of a top-level field of a JSON object (an object, array, string with its quotes,
 * number...), or "" when the field is missing or the input is not an object. Nest calls to reach
 * deeper: rawField(rawField(input, "context"), "_meta").
 */
export function rawField(json: string, key: string): string {
  let i = skipWs(json, 0);
  if (i >= json.length || json.charCodeAt(i) != 0x7b) return "";
  i = skipWs(json, i + 1);
  while (i < json.length && json.charCodeAt(i) == 0x22) {
    const keyEnd = skipString(json, i);
    if (keyEnd < 0) return "";
    const k = json.substring(i + 1, keyEnd - 1);
    i = skipWs(json, keyEnd);
    if (i >= json.length || json.charCodeAt(i) != 0x3a) return "";
    const valueStart = skipWs(json, i + 1);
    const valueEnd = skipValue(json, valueStart);
    if (valueEnd < 0) return "";
    if (k == key) return json.substring(valueStart, valueEnd);
    i = skipWs(json, valueEnd);
    if (i >= json.length || json.charCodeAt(i) != 0x2c) return "";
    i = skipWs(json, i + 1);
  }
  return "";
}

/** A top-level string field of a JSON object, or null when missing or not a string. */
export function stringField(json: string, key: string): string | null {
  const field = new JsonField(json.length == 0 ? "{}" : json);
  return field.find(key) == Kind.String ? field.str : null;
}

/** A top-level number field of a JSON object, or NaN when missing or not a number. */
export function numberField(json: string, key: string): f64 {
  const field = new JsonField(json.length == 0 ? "{}" : json);
  return field.find(key) == Kind.Number ? field.num : NaN;
}

// ---------------------------------------------------------------- MCP results

/** A CallToolResult with one text item. */
export function textResult(text: string, isError: bool): string {
  const flag = isError ? ",\"isError\":true" : "";
  return "{\"content\":[{\"type\":\"text\",\"text\":" + jsonString(text) + "}]" + flag + "}";
}
