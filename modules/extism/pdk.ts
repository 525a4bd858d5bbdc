// pdk.ts — a minimal hand-written Extism PDK for AssemblyScript: the host
// functions a tool needs, declared by hand, and a small JSON reader. WasmForge's
// example plugins use it, and `wasmforge new` copies it into every new project.
// Only the `extism:host/env` kernel functions every Extism host provides are
// used (and only those a plugin calls end up imported).
//
// Build with `--runtime stub --use abort=<path to this file>/abort`, so the
// module imports nothing but `extism:host/env`.

@external("extism:host/env", "input_length")
declare function input_length(): u64;
@external("extism:host/env", "input_load_u8")
declare function input_load_u8(offs: u64): u8;
@external("extism:host/env", "alloc")
declare function extism_alloc(n: u64): u64;
@external("extism:host/env", "store_u8")
declare function store_u8(offs: u64, v: u8): void;
@external("extism:host/env", "output_set")
declare function output_set(offs: u64, n: u64): void;
@external("extism:host/env", "error_set")
declare function error_set(offs: u64): void;
@external("extism:host/env", "length")
declare function extism_length(offs: u64): u64;
@external("extism:host/env", "load_u8")
declare function load_u8(offs: u64): u8;

/** Replacement for AssemblyScript's `env.abort` import: just trap. */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable();
}

/** Call at the start of every export: the stub runtime never frees, so start each call with an empty heap. */
export function beginCall(): void {
  heap.reset();
}

/** The call's input decoded as UTF-8. */
export function inputString(): string {
  const n = <i32>input_length();
  const buf = new ArrayBuffer(n);
  const p = changetype<usize>(buf);
  for (let i = 0; i < n; i++) {
    store<u8>(p + <usize>i, input_load_u8(<u64>i));
  }
  return String.UTF8.decode(buf);
}

/** A memory block holding the UTF-8 encoding of s (for host functions that take one). */
export function toBlock(s: string): u64 {
  const buf = String.UTF8.encode(s);
  const n = buf.byteLength;
  const offs = extism_alloc(<u64>n);
  const p = changetype<usize>(buf);
  for (let i = 0; i < n; i++) {
    store_u8(offs + <u64>i, load<u8>(p + <usize>i));
  }
  return offs;
}

/** The text of a memory block a host function returned. */
export function blockString(offs: u64): string {
  const n = <i32>extism_length(offs);
  const buf = new ArrayBuffer(n);
  const p = changetype<usize>(buf);
  for (let i = 0; i < n; i++) {
    store<u8>(p + <usize>i, load_u8(offs + <u64>i));
  }
  return String.UTF8.decode(buf);
}

/** Set the call's output to the UTF-8 encoding of s. */
export function outputString(s: string): void {
  const offs = toBlock(s);
  output_set(offs, <u64>String.UTF8.byteLength(s));
}

/** Set the call's error message; return the status code to return from the export. */
export function fail(message: string): i32 {
  error_set(toBlock(message));
  return 1;
}

// ---------------------------------------------------------------- tiny JSON

/** Result of looking up a top-level field of a JSON object. */
export const enum Kind {
  Missing = 0, // field not present
  String = 1,
  Number = 2,
  Other = 3, // present, but true/false/null/object/array (its JSON text is in `str`)
  NotObject = 4, // the input is not a JSON object at all
}

function isWs(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

/**
 * A reader for one top-level field of a JSON object. After `find(key)`,
 * `kind` says what was found and `str` / `num` hold the value.
 */
export class JsonField {
  kind: Kind = Kind.Missing;
  str: string = "";
  num: f64 = 0;
  private s: string;
  private i: i32 = 0;

  constructor(json: string) {
    this.s = json;
  }

  private peek(): i32 {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  private skipWs(): void {
    while (this.i < this.s.length && isWs(this.s.charCodeAt(this.i))) this.i++;
  }

  /** Parse a string starting at the opening quote; returns null if malformed. */
  private readString(): string | null {
    if (this.peek() != 0x22) return null;
    this.i++;
    let out = "";
    let start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c == 0x22) {
        out += this.s.substring(start, this.i);
        this.i++;
        return out;
      }
      if (c == 0x5c) {
        out += this.s.substring(start, this.i);
        this.i++;
        if (this.i >= this.s.length) return null;
        const e = this.s.charCodeAt(this.i);
        this.i++;
        if (e == 0x22) out += "\"";
        else if (e == 0x5c) out += "\\";
        else if (e == 0x2f) out += "/";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x6e) out += "\n";
        else if (e == 0x72) out += "\r";
        else if (e == 0x74) out += "\t";
        else if (e == 0x75) {
          if (this.i + 4 > this.s.length) return null;
          let code = 0;
          for (let k = 0; k < 4; k++) {
            const h = this.s.charCodeAt(this.i + k);
            let d: i32;
            if (h >= 0x30 && h <= 0x39) d = h - 0x30;
            else if (h >= 0x61 && h <= 0x66) d = h - 0x61 + 10;
            else if (h >= 0x41 && h <= 0x46) d = h - 0x41 + 10;
            else return null;
            code = (code << 4) | d;
          }
          this.i += 4;
          out += String.fromCharCode(code);
        } else return null;
        start = this.i;
        continue;
      }
      this.i++;
    }
    return null;
  }

  /** Skip any JSON value; returns false if malformed. */
  private skipValue(): bool {
    this.skipWs();
    const c = this.peek();
    if (c == 0x22) return this.readString() !== null;
    if (c == 0x7b || c == 0x5b) {
      // object or array: track nesting, skipping strings
      let depth = 0;
      while (this.i < this.s.length) {
        const d = this.s.charCodeAt(this.i);
        if (d == 0x22) {
          if (this.readString() === null) return false;
          continue;
        }
        if (d == 0x7b || d == 0x5b) depth++;
        else if (d == 0x7d || d == 0x5d) {
          depth--;
          if (depth == 0) {
            this.i++;
            return true;
          }
        }
        this.i++;
      }
      return false;
    }
    // number / true / false / null
    const start = this.i;
    while (this.i < this.s.length) {
      const d = this.s.charCodeAt(this.i);
      if (d == 0x2c || d == 0x7d || d == 0x5d || isWs(d)) break;
      this.i++;
    }
    return this.i > start;
  }

  /** Look up a top-level field. Sets kind / str / num; returns kind. */
  find(key: string): Kind {
    this.i = 0;
    this.kind = Kind.Missing;
    this.skipWs();
    if (this.peek() != 0x7b) return (this.kind = Kind.NotObject);
    this.i++;
    this.skipWs();
    if (this.peek() == 0x7d) return this.kind;
    while (true) {
      this.skipWs();
      const k = this.readString();
      if (k === null) return (this.kind = Kind.NotObject);
      this.skipWs();
      if (this.peek() != 0x3a) return (this.kind = Kind.NotObject);
      this.i++;
      this.skipWs();
      if (k == key) {
        const c = this.peek();
        if (c == 0x22) {
          const v = this.readString();
          if (v === null) return (this.kind = Kind.NotObject);
          this.str = v;
          return (this.kind = Kind.String);
        }
        if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
          const start = this.i;
          if (!this.skipValue()) return (this.kind = Kind.NotObject);
          const text = this.s.substring(start, this.i);
          const n = parseFloat(text);
          if (isNaN(n)) return (this.kind = Kind.Other);
          this.num = n;
          return (this.kind = Kind.Number);
        }
        const start = this.i;
        if (!this.skipValue()) return (this.kind = Kind.NotObject);
        // true/false/null, an object or an array: `str` holds its JSON text.
        this.str = this.s.substring(start, this.i);
        return (this.kind = Kind.Other);
      }
      if (!this.skipValue()) return (this.kind = Kind.NotObject);
      this.skipWs();
      const c = this.peek();
      if (c == 0x2c) {
        this.i++;
        continue;
      }
      if (c == 0x7d) return this.kind;
      return (this.kind = Kind.NotObject);
    }
  }
}

/** Encode s as a JSON string literal (with quotes). */
export function jsonString(s: string): string {
  let out = "\"";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | null = null;
    if (c == 0x22) esc = "\\\"";
    else if (c == 0x5c) esc = "\\\\";
    else if (c == 0x0a) esc = "\\n";
    else if (c == 0x0d) esc = "\\r";
    else if (c == 0x09) esc = "\\t";
    else if (c < 0x20) {
      const hex = "0123456789abcdef";
      esc = "\\u00" + hex.charAt(c >> 4) + hex.charAt(c & 15);
    }
    if (esc !== null) {
      out += s.substring(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.substring(start) + "\"";
}
