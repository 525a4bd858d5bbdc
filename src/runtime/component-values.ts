// JSON ↔ the JavaScript values jco's generated bindings take and return, for every WIT type.
// The JSON side is wassette's (component2json's json_to_val / val_to_json, except flags, which
// come back as the object of booleans their schema describes); the JavaScript side is what the
// bindings of jco-transpile 0.15 use:
//
//   WIT               JSON                                     bindings
//   bool              true                                     true
//   u8 … s32          42 (range-checked: the bindings wrap)    42
//   u64, s64          42 or "42"                               42n (BigInt)
//   f32, f64          1.5 ("NaN", "Infinity" as strings out)   1.5
//   char              "x" (exactly one code point)             "x"
//   list<u8>          [1, 2]                                   Uint8Array
//   record            {"field-name": v}                        { fieldName: v } (lowerCamelCase)
//   variant           {"tag": "case", "val": v}                { tag: "case", val: v }
//   flags             {"read": true} or ["read"]               { read: true, write: false }
//   option<T>         null | v                                 undefined | v
//   result<T, E>      {"ok": v} | {"err": e}                   nested: { tag, val }; as the result: returns T, throws E

import { WIT_INT_RANGES, type WitType } from "../wasm/component.js";

/** A bad argument, caught before the component runs: the instance stays usable. */
export class ArgumentError extends Error {}


/** heck's to_lower_camel_case, as js-component-bindgen names fields, flags and functions. */
export function lowerCamel(name: string): string {
  return name
    .split("-")
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join("");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : JSON.stringify(v);
}

function fail(path: string, message: string): never {
  throw new ArgumentError(`"${path}": ${message}`);
}

/** A tool argument (JSON) as the bindings' value of WIT type `t`. */
export function toJs(v: unknown, t: WitType, path: string): unknown {
  switch (t.kind) {
    case "bool":
      if (typeof v !== "boolean") fail(path, `expected a boolean, got ${describe(v)}`);
      return v;
    case "u8":
    case "s8":
    case "u16":
    case "s16":
    case "u32":
    case "s32": {
      const [lo, hi] = WIT_INT_RANGES[t.kind]!.map(Number) as [number, number];
      if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) fail(path, `expected an integer from ${lo} to ${hi} (${t.kind}), got ${describe(v)}`);
      return v;
    }
    case "u64":
    case "s64": {
      let big: bigint;
      if (typeof v === "number" && Number.isInteger(v)) big = BigInt(v);
      else if (typeof v === "string" && /^-?\d{1,20}$/.test(v)) big = BigInt(v);
      else fail(path, `expected an integer (${t.kind}), got ${describe(v)}`);
      const [lo, hi] = WIT_INT_RANGES[t.kind]!;
      if (big < lo || big > hi) fail(path, `${v} is out of range for ${t.kind} (${lo} to ${hi})`);
      return big;
    }
    case "f32":
    case "f64":
      if (typeof v === "number") return v;
      if (v === "NaN" || v === "Infinity" || v === "-Infinity") return Number(v);
      fail(path, `expected a number, got ${describe(v)}`);
    case "char":
      if (typeof v !== "string" || [...v].length !== 1) fail(path, `expected exactly one Unicode character, got ${describe(v)}`);
      return v;
    case "string":
      if (typeof v !== "string") fail(path, `expected a string, got ${describe(v)}`);
      return v;
    case "enum":
      if (typeof v !== "string" || !t.names.includes(v)) fail(path, `expected one of ${t.names.join(", ")}, got ${describe(v)}`);
      return v;
    case "list": {
      if (!Array.isArray(v)) fail(path, `expected an array, got ${describe(v)}`);
      if (t.length !== undefined && v.length !== t.length) fail(path, `expected ${t.length} items, got ${v.length}`);
      const items = v.map((x, i) => toJs(x, t.element, `${path}[${i}]`));
      return t.element.kind === "u8" ? Uint8Array.from(items as number[]) : items;
    }
    case "tuple":
      if (!Array.isArray(v) || v.length !== t.types.length) fail(path, `expected an array of ${t.types.length} items, got ${describe(v)}`);
      return t.types.map((type, i) => toJs(v[i], type, `${path}[${i}]`));
    case "record": {
      if (!isObject(v)) fail(path, `expected an object, got ${describe(v)}`);
      const out: Record<string, unknown> = {};
      for (const field of t.fields) {
        const value = v[field.name];
        if (value === undefined && field.type.kind !== "option") fail(`${path}.${field.name}`, "missing");
        out[lowerCamel(field.name)] = toJs(value ?? null, field.type, `${path}.${field.name}`);
      }
      return out;
    }
    case "variant": {
      if (!isObject(v) || typeof v.tag !== "string") fail(path, `expected {"tag": …, "val": …}, got ${describe(v)}`);
      const found = t.cases.find((c) => c.name === v.tag);
      if (!found) fail(path, `unknown case "${v.tag}" (cases: ${t.cases.map((c) => c.name).join(", ")})`);
      if (!found.type) return { tag: found.name };
      if (!("val" in v)) fail(path, `case "${found.name}" needs "val"`);
      return { tag: found.name, val: toJs(v.val, found.type, `${path}.val`) };
    }
    case "flags": {
      const out: Record<string, boolean> = Object.fromEntries(t.names.map((n) => [lowerCamel(n), false]));
      if (Array.isArray(v)) {
        for (const flag of v) {
          if (typeof flag !== "string" || !t.names.includes(flag)) fail(path, `unknown flag ${describe(flag)} (flags: ${t.names.join(", ")})`);
          out[lowerCamel(flag)] = true;
        }
      } else if (isObject(v)) {
        for (const [flag, on] of Object.entries(v)) {
          if (!t.names.includes(flag)) fail(path, `unknown flag "${flag}" (flags: ${t.names.join(", ")})`);
          if (typeof on !== "boolean") fail(`${path}.${flag}`, `expected a boolean, got ${describe(on)}`);
          out[lowerCamel(flag)] = on;
        }
      } else {
        fail(path, `expected an object of booleans, got ${describe(v)}`);
      }
      return out;
    }
    case "option":
      if (v === null || v === undefined) return undefined;
      // The bindings tag an option directly inside an option; the outermost one is undefined | value.
      if (t.type.kind === "option") return { tag: "some", val: toJs(v, t.type, path) };
      return toJs(v, t.type, path);
    case "result":
      if (isObject(v) && "ok" in v) return { tag: "ok", val: t.ok ? toJs(v.ok, t.ok, `${path}.ok`) : undefined };
      if (isObject(v) && "err" in v) return { tag: "err", val: t.err ? toJs(v.err, t.err, `${path}.err`) : undefined };
      fail(path, `expected {"ok": …} or {"err": …}, got ${describe(v)}`);
    default:
      fail(path, `${t.kind} values cannot be passed by a tool`);
  }
}

/** The bindings' value of WIT type `t` as JSON. */
export function fromJs(v: unknown, t: WitType): unknown {
  switch (t.kind) {
    case "u64":
    case "s64":
      // JSON has one number type: beyond ±2^53 the value is the nearest double.
      return typeof v === "bigint" ? Number(v) : v;
    case "f32":
    case "f64":
      return typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
    case "list":
      return Array.from(v as ArrayLike<unknown>, (x) => fromJs(x, t.element));
    case "tuple":
      return t.types.map((type, i) => fromJs((v as unknown[])[i], type));
    case "record": {
      const record = v as Record<string, unknown>;
      return Object.fromEntries(t.fields.map((f) => [f.name, fromJs(record[lowerCamel(f.name)], f.type)]));
    }
    case "variant": {
      const { tag, val } = v as { tag: string; val?: unknown };
      const found = t.cases.find((c) => c.name === tag);
      return found?.type ? { tag, val: fromJs(val, found.type) } : { tag };
    }
    case "flags": {
      const flags = v as Record<string, unknown>;
      return Object.fromEntries(t.names.map((n) => [n, Boolean(flags[lowerCamel(n)])]));
    }
    case "option":
      if (v === undefined || v === null) return null;
      if (t.type.kind === "option") {
        const inner = v as { tag: string; val?: unknown };
        return inner.tag === "none" ? null : fromJs(inner.val, t.type);
      }
      return fromJs(v, t.type);
    case "result": {
      const { tag, val } = v as { tag: string; val?: unknown };
      return tag === "ok" ? { ok: t.ok ? fromJs(val, t.ok) : null } : { err: t.err ? fromJs(val, t.err) : null };
    }
    default:
      return v ?? null; // bool, s8 … u32, char, string, enum
  }
}

/**
 * Whether something a function threw is its result's `err` (with jco-transpile's default
 * `noComponentErrorWrapping`, the payload itself; wrapped, a ComponentError carrying `payload`),
 * rather than a trap (WebAssembly.RuntimeError) or a check of the bindings (TypeError, RangeError).
 */
export function isGuestError(e: unknown): boolean {
  if (e instanceof WebAssembly.RuntimeError || e instanceof TypeError || e instanceof RangeError) return false;
  if (e instanceof Error) return e.constructor.name === "ComponentError" || "payload" in e;
  return true;
}

export function payloadOf(e: unknown): unknown {
  return e instanceof Error && "payload" in e ? e.payload : e;
}
