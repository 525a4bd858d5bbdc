// Reads a WebAssembly component's binary (the component model's layer 1) and describes its world:
// its imports, and every exported function — world-level or inside an exported interface — with
// its parameters and result as plain JSON type trees, plus the doc comments of the `package-docs`
// custom section. No jco and no compilation: one pass over the component-level sections, a few
// milliseconds even for a component of several megabytes. Core modules, core instances and core
// types are skipped by their size.
//
// wit-component wraps each exported interface in a small nested component that exports named
// copies of its types and whose functions carry ascribed types, so an instance's functions are
// fully typed by that nested component alone; instantiate arguments never need substituting.

import { binaryKind, Reader, WasmFormatError } from "./reader.js";

export type WitPrimitive =
  | "bool" | "s8" | "u8" | "s16" | "u16" | "s32" | "u32" | "s64" | "u64" | "f32" | "f64" | "char" | "string" | "error-context";

export interface WitField {
  name: string;
  type: WitType;
}

export interface WitCase {
  name: string;
  type?: WitType;
}

/** A WIT value type. A named type (`record point`) carries its `name`. */
export type WitType = (
  | { kind: WitPrimitive }
  | { kind: "list"; element: WitType; length?: number }
  | { kind: "record"; fields: WitField[] }
  | { kind: "tuple"; types: WitType[] }
  | { kind: "variant"; cases: WitCase[] }
  | { kind: "enum"; names: string[] }
  | { kind: "flags"; names: string[] }
  | { kind: "option"; type: WitType }
  | { kind: "result"; ok?: WitType; err?: WitType }
  | { kind: "own" | "borrow"; resource: { name?: string } }
  | { kind: "resource" }
  | { kind: "future" | "stream"; type?: WitType }
  | { kind: "map"; key: WitType; value: WitType }
) & { name?: string };

export interface WitParam {
  name: string;
  type: WitType;
}

export interface WitFunction {
  /** The exported interface the function belongs to (`wasmforge:kitchen/types@0.1.0`), or undefined at world level. */
  interface?: string;
  name: string;
  params: WitParam[];
  result?: WitType;
  /** Component-model async (WASI 0.3): not runnable here. */
  async?: boolean;
  /** The export's type could not be read (an alias WasmForge does not follow). */
  untyped?: boolean;
  docs?: string;
}

export interface ComponentInfo {
  /** The binary format version (bytes 4–5; 0x0d today). */
  version: number;
  /** Every import, by name (`wasi:cli/environment@0.2.3`), with its sort. */
  imports: { name: string; sort: string }[];
  /** Exported functions and interfaces (instances), by name. */
  exports: { name: string; sort: "func" | "instance" }[];
  functions: WitFunction[];
}

interface FuncType {
  kind: "func";
  params: WitParam[];
  result?: WitType;
  async?: boolean;
}
interface Extern {
  name: string;
  sort: Sort;
  item: Item | undefined;
}
interface InstanceType {
  kind: "instance";
  exports: Extern[];
}
interface ComponentType {
  kind: "component";
  imports: Extern[];
  exports: Extern[];
}
/** Anything an index space holds. */
type Item = WitType | FuncType | InstanceType | ComponentType | { kind: "core-module" } | { kind: "unknown"; name?: string };
type Sort = "func" | "value" | "type" | "component" | "instance" | "core";

const PRIMITIVES: Record<number, WitPrimitive> = {
  0x7f: "bool", 0x7e: "s8", 0x7d: "u8", 0x7c: "s16", 0x7b: "u16", 0x7a: "s32", 0x79: "u32",
  0x78: "s64", 0x77: "u64", 0x76: "f32", 0x75: "f64", 0x74: "char", 0x73: "string", 0x64: "error-context",
};
const SORTS: Record<number, Sort> = { 0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance" };

class ComponentReader extends Reader {
  peek(): number {
    if (this.pos >= this.end) throw new WasmFormatError("unexpected end of component");
    return this.bytes[this.pos]!;
  }
  /** A signed LEB128 of at most 33 bits (type indices and primitive codes share it). */
  s33(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 35) throw new WasmFormatError("malformed LEB128 integer");
    } while (b & 0x80);
    return b & 0x40 ? result - 2 ** shift : result;
  }
  vec<T>(read: () => T): T[] {
    const count = this.u32();
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(read());
    return out;
  }
  opt<T>(read: () => T): T | undefined {
    const tag = this.byte();
    if (tag === 0) return undefined;
    if (tag === 1) return read();
    throw new WasmFormatError(`bad option tag ${tag}`);
  }
}

/** One index-space scope: a component, a component type or an instance type. */
class Scope {
  readonly types: (Item | undefined)[] = [];
  readonly funcs: (Item | undefined)[] = [];
  readonly instances: (Item | undefined)[] = [];
  readonly components: (Item | undefined)[] = [];
  readonly values: (Item | undefined)[] = [];
  readonly imports: Extern[] = [];
  readonly exports: Extern[] = [];
  constructor(readonly parent?: Scope) {}

  space(sort: Sort): (Item | undefined)[] | undefined {
    switch (sort) {
      case "type": return this.types;
      case "func": return this.funcs;
      case "instance": return this.instances;
      case "component": return this.components;
      case "value": return this.values;
      case "core": return undefined; // core index spaces are not tracked
    }
  }
  outer(count: number): Scope {
    let scope: Scope | undefined = this;
    for (let i = 0; i < count; i++) scope = scope?.parent;
    if (!scope) throw new WasmFormatError("outer alias past the root component");
    return scope;
  }
  type(index: number): Item {
    const t = this.types[index];
    if (t === undefined) throw new WasmFormatError(`type index ${index} out of range`);
    return t;
  }
}

function valueType(item: Item): WitType {
  if (item.kind === "func" || item.kind === "instance" || item.kind === "component" || item.kind === "core-module" || item.kind === "unknown") {
    throw new WasmFormatError(`expected a value type, found a ${item.kind} type`);
  }
  return item;
}

function externName(r: ComponentReader): string {
  const tag = r.byte();
  if (tag === 0x00 || tag === 0x01) return r.name();
  if (tag === 0x02) {
    const name = r.name();
    r.name(); // version suffix
    return name;
  }
  throw new WasmFormatError(`bad extern name tag ${tag}`);
}

function sort(r: ComponentReader): Sort {
  const code = r.byte();
  if (code === 0x00) {
    r.byte();
    return "core";
  }
  const found = SORTS[code];
  if (!found) throw new WasmFormatError(`bad sort ${code}`);
  return found;
}

function valtype(r: ComponentReader, scope: Scope): WitType {
  const primitive = PRIMITIVES[r.peek()];
  if (primitive) {
    r.pos++;
    return { kind: primitive };
  }
  return valueType(scope.type(r.s33()));
}

function resourceOf(item: Item): { name?: string } {
  return "name" in item && typeof item.name === "string" ? { name: item.name } : {};
}

function deftype(r: ComponentReader, scope: Scope): Item {
  const tag = r.byte();
  const primitive = PRIMITIVES[tag];
  if (primitive) return { kind: primitive };
  switch (tag) {
    case 0x72:
      return { kind: "record", fields: r.vec(() => ({ name: r.name(), type: valtype(r, scope) })) };
    case 0x71:
      return {
        kind: "variant",
        cases: r.vec(() => {
          const name = r.name();
          const type = r.opt(() => valtype(r, scope));
          r.byte(); // refines: always absent in current encodings
          return type ? { name, type } : { name };
        }),
      };
    case 0x70:
      return { kind: "list", element: valtype(r, scope) };
    case 0x67: {
      const element = valtype(r, scope);
      return { kind: "list", element, length: r.u32() };
    }
    case 0x6f:
      return { kind: "tuple", types: r.vec(() => valtype(r, scope)) };
    case 0x6e:
      return { kind: "flags", names: r.vec(() => r.name()) };
    case 0x6d:
      return { kind: "enum", names: r.vec(() => r.name()) };
    case 0x6b:
      return { kind: "option", type: valtype(r, scope) };
    case 0x6a: {
      const ok = r.opt(() => valtype(r, scope));
      const err = r.opt(() => valtype(r, scope));
      return { kind: "result", ...(ok && { ok }), ...(err && { err }) };
    }
    case 0x69:
      return { kind: "own", resource: resourceOf(scope.type(r.u32())) };
    case 0x68:
      return { kind: "borrow", resource: resourceOf(scope.type(r.u32())) };
    case 0x66: {
      const type = r.opt(() => valtype(r, scope));
      return { kind: "stream", ...(type && { type }) };
    }
    case 0x65: {
      const type = r.opt(() => valtype(r, scope));
      return { kind: "future", ...(type && { type }) };
    }
    case 0x63: {
      const key = valtype(r, scope);
      return { kind: "map", key, value: valtype(r, scope) };
    }
    case 0x40:
    case 0x43: {
      const params = r.vec(() => ({ name: r.name(), type: valtype(r, scope) }));
      const resultTag = r.byte();
      let result: WitType | undefined;
      if (resultTag === 0x00) result = valtype(r, scope);
      else if (resultTag === 0x01) {
        // Legacy named results: read as a tuple of their types.
        const named = r.vec(() => ({ name: r.name(), type: valtype(r, scope) }));
        if (named.length) result = { kind: "tuple", types: named.map((n) => n.type) };
      } else throw new WasmFormatError(`bad result list 0x${resultTag.toString(16)}`);
      return { kind: "func", params, ...(result && { result }), ...(tag === 0x43 && { async: true }) };
    }
    case 0x41: {
      const inner = new Scope(scope);
      r.vec(() => decl(r, inner, true));
      return { kind: "component", imports: inner.imports, exports: inner.exports };
    }
    case 0x42: {
      const inner = new Scope(scope);
      r.vec(() => decl(r, inner, false));
      return { kind: "instance", exports: inner.exports };
    }
    case 0x3f:
      r.byte();
      r.opt(() => r.u32());
      return { kind: "resource" };
    case 0x3e:
      r.byte();
      r.opt(() => r.u32());
      r.opt(() => r.u32());
      return { kind: "resource" };
    default:
      throw new WasmFormatError(`unsupported component type constructor 0x${tag.toString(16)}`);
  }
}

/** An extern description: what an import or export of this kind brings into its scope. */
function externdesc(r: ComponentReader, scope: Scope, name: string): { sort: Sort; item: Item | undefined } {
  const tag = r.byte();
  switch (tag) {
    case 0x00:
      r.byte();
      r.u32();
      return { sort: "core", item: { kind: "core-module" } };
    case 0x01:
      return { sort: "func", item: scope.type(r.u32()) };
    case 0x02: {
      const bound = r.byte();
      return { sort: "value", item: bound === 0x00 ? scope.values[r.u32()] : valtype(r, scope) };
    }
    case 0x03: {
      const bound = r.byte();
      return { sort: "type", item: bound === 0x00 ? named(scope.type(r.u32()), name) : { kind: "resource", name } };
    }
    case 0x04:
      return { sort: "component", item: scope.type(r.u32()) };
    case 0x05:
      return { sort: "instance", item: scope.type(r.u32()) };
    default:
      throw new WasmFormatError(`bad extern description ${tag}`);
  }
}

function named(item: Item, name: string): Item {
  return { ...item, name } as Item;
}

function alias(r: ComponentReader, scope: Scope): void {
  const s = sort(r);
  const target = r.byte();
  if (target === 0x00) {
    // an export of a component instance
    const instance = scope.instances[r.u32()];
    const name = r.name();
    const found = instance?.kind === "instance" ? instance.exports.find((e) => e.name === name) : undefined;
    scope.space(s)?.push(found ? found.item : { kind: "unknown", name });
  } else if (target === 0x01) {
    r.u32();
    r.name(); // a core export: core index spaces are not tracked
  } else if (target === 0x02) {
    const count = r.u32();
    const index = r.u32();
    if (s !== "core") scope.space(s)?.push(scope.outer(count).space(s)?.[index]);
  } else {
    throw new WasmFormatError(`bad alias target ${target}`);
  }
}

/** A declaration inside a component type (imports allowed) or an instance type. */
function decl(r: ComponentReader, scope: Scope, allowImport: boolean): void {
  const tag = r.byte();
  if (tag === 0x00) throw new WasmFormatError("core types inside component types are not supported");
  if (tag === 0x01) return void scope.types.push(deftype(r, scope));
  if (tag === 0x02) return alias(r, scope);
  if ((tag === 0x03 && allowImport) || tag === 0x04) {
    const name = externName(r);
    const d = externdesc(r, scope, name);
    scope.space(d.sort)?.push(d.item);
    (tag === 0x03 ? scope.imports : scope.exports).push({ name, ...d });
    return;
  }
  throw new WasmFormatError(`bad declaration ${tag}`);
}

function canon(r: ComponentReader, scope: Scope): void {
  const tag = r.byte();
  const options = () =>
    r.vec(() => {
      const option = r.byte();
      if (option === 0x03 || option === 0x04 || option === 0x05 || option === 0x07) r.u32();
      else if (option === 0x08) r.opt(() => r.u32());
    });
  switch (tag) {
    case 0x00: // lift: a component function
      r.byte();
      r.u32();
      options();
      scope.funcs.push(scope.type(r.u32()));
      return;
    case 0x01: // lower: a core function
      r.byte();
      r.u32();
      options();
      return;
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x07: // resource.new / drop / rep
      r.u32();
      return;
    default:
      throw new WasmFormatError(`unsupported canonical function 0x${tag.toString(16)} (component-model async, WASI 0.3?)`);
  }
}

function instance(r: ComponentReader, scope: Scope): void {
  const tag = r.byte();
  if (tag === 0x00) {
    const component = scope.components[r.u32()];
    r.vec(() => {
      r.name();
      sort(r);
      r.u32();
    });
    scope.instances.push({ kind: "instance", exports: component?.kind === "component" ? component.exports : [] });
  } else if (tag === 0x01) {
    const exports = r.vec((): Extern => {
      const name = externName(r);
      const s = sort(r);
      const index = r.u32();
      return { name, sort: s, item: scope.space(s)?.[index] };
    });
    scope.instances.push({ kind: "instance", exports });
  } else {
    throw new WasmFormatError(`bad instance ${tag}`);
  }
}

interface Decoded {
  imports: Extern[];
  exports: Extern[];
  custom: Map<string, Uint8Array>;
}

function component(bytes: Uint8Array, start: number, end: number, parent?: Scope): Decoded {
  const scope = new Scope(parent);
  const r = new ComponentReader(bytes, start + 8, end);
  const custom = new Map<string, Uint8Array>();
  while (r.pos < end) {
    const id = r.byte();
    const size = r.u32();
    const sectionEnd = r.pos + size;
    if (sectionEnd > end) throw new WasmFormatError(`component section ${id} runs past the end of the file (truncated?)`);
    const s = new ComponentReader(bytes, r.pos, sectionEnd);
    switch (id) {
      case 0: {
        const name = s.name();
        custom.set(name, bytes.subarray(s.pos, sectionEnd));
        break;
      }
      case 4: {
        const inner = component(bytes, r.pos, sectionEnd, scope);
        scope.components.push({ kind: "component", imports: inner.imports, exports: inner.exports });
        break;
      }
      case 5:
        s.vec(() => instance(s, scope));
        break;
      case 6:
        s.vec(() => alias(s, scope));
        break;
      case 7:
        s.vec(() => scope.types.push(deftype(s, scope)));
        break;
      case 8:
        s.vec(() => canon(s, scope));
        break;
      case 10:
        s.vec(() => {
          const name = externName(s);
          const d = externdesc(s, scope, name);
          scope.space(d.sort)?.push(d.item);
          scope.imports.push({ name, ...d });
        });
        break;
      case 11:
        s.vec(() => {
          const name = externName(s);
          const exportSort = sort(s);
          const index = s.u32();
          const ascribed = s.opt(() => externdesc(s, scope, name));
          let item = ascribed ? ascribed.item : scope.space(exportSort)?.[index];
          if (exportSort === "type" && item) item = named(item, name);
          scope.space(exportSort)?.push(item);
          scope.exports.push({ name, sort: exportSort, item });
        });
        break;
      default:
        break; // 1 core module, 2 core instance, 3 core type, 9 start, 12 value: nothing discovery needs
    }
    r.pos = sectionEnd;
  }
  return { imports: scope.imports, exports: scope.exports, custom };
}

/** wit-parser's PackageMetadata, as far as docs go (version 0 has plain strings where version 1 has `{docs}`). */
interface PackageDocs {
  package?: string;
  worlds?: Record<string, { func_exports?: Record<string, unknown>; funcs?: Record<string, unknown> }>;
  interfaces?: Record<string, { funcs?: Record<string, unknown> }>;
}

function packageDocs(data: Uint8Array | undefined): PackageDocs | undefined {
  if (!data || data.length < 2 || data[0]! > 1) return undefined;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(data.subarray(1)));
    return typeof parsed === "object" && parsed !== null ? (parsed as PackageDocs) : undefined;
  } catch {
    return undefined; // damaged docs only cost descriptions
  }
}

function docText(entry: unknown): string | undefined {
  if (typeof entry === "string") return entry;
  if (typeof entry === "object" && entry !== null && "docs" in entry && typeof entry.docs === "string") return entry.docs;
  return undefined;
}

/** Docs for a world-level function or an interface's function, from package-docs. */
function docsFor(docs: PackageDocs | undefined, iface: string | undefined, fn: string): string | undefined {
  if (!docs) return undefined;
  if (iface === undefined) {
    for (const world of Object.values(docs.worlds ?? {})) {
      const found = docText(world.func_exports?.[fn]) ?? docText(world.funcs?.[fn]);
      if (found) return found;
    }
    return undefined;
  }
  // "wasmforge:kitchen/types@0.1.0" is interface "types" of package "wasmforge:kitchen@0.1.0"
  const m = /^([^:]+:[^/]+)\/([^@]+)(@.*)?$/.exec(iface);
  const local = m ? m[2]! : iface;
  if (docs.package && m && docs.package !== `${m[1]}${m[3] ?? ""}`) return undefined;
  return docText(docs.interfaces?.[local]?.funcs?.[fn]);
}

function signatureOf(item: Item | undefined): Pick<WitFunction, "params" | "result" | "async" | "untyped"> {
  if (!item || item.kind !== "func") return { params: [], untyped: true };
  return { params: item.params, ...(item.result && { result: item.result }), ...(item.async && { async: true }) };
}

/** The world of a component: its imports, and every exported function with its types and docs. */
export function readComponentInfo(bytes: Uint8Array): ComponentInfo {
  if (binaryKind(bytes) !== "component") throw new WasmFormatError("not a WebAssembly component (its layer field is not 1)");
  const top = component(bytes, 0, bytes.length);
  const docs = packageDocs(top.custom.get("package-docs"));
  const functions: WitFunction[] = [];
  const exports: ComponentInfo["exports"] = [];
  for (const e of top.exports) {
    if (e.sort === "func") {
      exports.push({ name: e.name, sort: "func" });
      functions.push({ name: e.name, ...signatureOf(e.item), ...withDocs(docsFor(docs, undefined, e.name)) });
    } else if (e.sort === "instance") {
      exports.push({ name: e.name, sort: "instance" });
      for (const inner of e.item?.kind === "instance" ? e.item.exports : []) {
        if (inner.sort !== "func") continue;
        functions.push({ interface: e.name, name: inner.name, ...signatureOf(inner.item), ...withDocs(docsFor(docs, e.name, inner.name)) });
      }
    }
  }
  return {
    version: bytes[4]! | (bytes[5]! << 8),
    imports: top.imports.filter((i) => i.sort !== "type").map((i) => ({ name: i.name, sort: i.sort })),
    exports,
    functions,
  };
}

function withDocs(docs: string | undefined): { docs?: string } {
  return docs ? { docs } : {};
}

/** A type printed back as WIT, for signatures in messages, `inspect` and descriptions. */
export function witType(t: WitType): string {
  if (t.name && t.kind !== "own" && t.kind !== "borrow") return t.name;
  switch (t.kind) {
    case "list":
      return t.length ? `list<${witType(t.element)}, ${t.length}>` : `list<${witType(t.element)}>`;
    case "option":
      return `option<${witType(t.type)}>`;
    case "tuple":
      return `tuple<${t.types.map(witType).join(", ")}>`;
    case "result":
      return !t.ok && !t.err ? "result" : `result<${t.ok ? witType(t.ok) : "_"}${t.err ? `, ${witType(t.err)}` : ""}>`;
    case "own":
      return t.resource.name ?? "resource";
    case "borrow":
      return `borrow<${t.resource.name ?? "resource"}>`;
    case "map":
      return `map<${witType(t.key)}, ${witType(t.value)}>`;
    case "future":
    case "stream":
      return t.type ? `${t.kind}<${witType(t.type)}>` : t.kind;
    case "record":
    case "variant":
    case "enum":
    case "flags":
      return `${t.kind} { … }`;
    default:
      return t.kind;
  }
}

/** `read-file: func(path: string) -> result<string, string>` */
export function witSignature(fn: Pick<WitFunction, "name" | "params" | "result" | "async">): string {
  const params = fn.params.map((p) => `${p.name}: ${witType(p.type)}`).join(", ");
  return `${fn.name}: ${fn.async ? "async " : ""}func(${params})${fn.result ? ` -> ${witType(fn.result)}` : ""}`;
}

/**
 * A copy of the component without its top-level custom sections of these names. WasmForge reads
 * package-docs itself; jco-transpile 0.15's bundled wit-parser fails on the current format
 * ("unknown field `package`") and on docs for interfaces of other packages ("missing interface"),
 * so the section is removed before transpiling.
 */
export function stripCustomSections(bytes: Uint8Array, names: readonly string[] = ["package-docs"]): Uint8Array {
  const keep: Uint8Array[] = [bytes.subarray(0, 8)];
  const r = new ComponentReader(bytes, 8);
  let dropped = 0;
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) throw new WasmFormatError(`component section ${id} runs past the end of the file (truncated?)`);
    if (id === 0 && names.includes(new ComponentReader(bytes, r.pos, end).name())) dropped++;
    else keep.push(bytes.subarray(start, end));
    r.pos = end;
  }
  if (!dropped) return bytes;
  const out = new Uint8Array(keep.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const part of keep) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The range of each WIT integer type, exactly. */
export const WIT_INT_RANGES: Record<string, [bigint, bigint]> = {
  u8: [0n, 255n],
  s8: [-128n, 127n],
  u16: [0n, 65535n],
  s16: [-32768n, 32767n],
  u32: [0n, 2n ** 32n - 1n],
  s32: [-(2n ** 31n), 2n ** 31n - 1n],
  u64: [0n, 2n ** 64n - 1n],
  s64: [-(2n ** 63n), 2n ** 63n - 1n],
};
