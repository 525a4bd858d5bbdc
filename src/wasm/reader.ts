// Reads what WebAssembly.Module.exports() does not tell: function signatures, parameter names
// (from the "name" custom section) and memory limits. Node 20 has no type reflection, so the
// binary format is read directly; only the sections WasmForge needs are decoded.

export type ValueType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

export interface FuncSignature {
  params: ValueType[];
  results: ValueType[];
}

export interface ExportedFunction {
  name: string;
  signature: FuncSignature;
  /** Parameter names from the name section, when the module kept them. */
  paramNames: (string | undefined)[];
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  signature?: FuncSignature;
}

export interface MemoryLimits {
  minPages: number;
  maxPages?: number;
  imported: boolean;
}

export interface WasmInfo {
  functions: ExportedFunction[];
  /** Exported names that are not functions (memory, globals, tables). */
  otherExports: { name: string; kind: string }[];
  imports: ImportEntry[];
  memories: MemoryLimits[];
}

export class WasmFormatError extends Error {}

const VALUE_TYPES: Record<number, ValueType> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};

const EXTERNAL_KINDS = ["function", "table", "memory", "global", "tag"] as const;

class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError("unexpected end of module");
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new WasmFormatError("malformed LEB128 integer");
    }
  }
  skipLeb(): void {
    while (this.byte() & 0x80);
  }
  name(): string {
    const length = this.u32();
    if (this.pos + length > this.end) throw new WasmFormatError("name runs past its section");
    const text = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }
  valueType(): ValueType {
    const code = this.byte();
    const type = VALUE_TYPES[code];
    if (!type) throw new WasmFormatError(`unknown value type 0x${code.toString(16)}`);
    return type;
  }
  limits(): { min: number; max?: number; flags: number } {
    const flags = this.byte();
    const min = this.u32();
    const max = flags & 1 ? this.u32() : undefined;
    return { min, max, flags };
  }
}

interface Section {
  id: number;
  start: number;
  end: number;
  /** Offset of the section id byte, for rewriting. */
  headerStart: number;
}

function sections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmFormatError("not a WebAssembly module (missing \\0asm header)");
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new WasmFormatError("unsupported WebAssembly version (a component, or a newer binary format?)");
  }
  const found: Section[] = [];
  const reader = new Reader(bytes, 8);
  while (reader.pos < bytes.length) {
    const headerStart = reader.pos;
    const id = reader.byte();
    const size = reader.u32();
    const start = reader.pos;
    if (start + size > bytes.length) throw new WasmFormatError(`section ${id} runs past the end of the file (truncated?)`);
    found.push({ id, start, end: start + size, headerStart });
    reader.pos = start + size;
  }
  return found;
}

export function readWasmInfo(bytes: Uint8Array): WasmInfo {
  const types: FuncSignature[] = [];
  const imports: ImportEntry[] = [];
  const functionTypes: number[] = []; // type index of every function, imported ones first
  const memories: MemoryLimits[] = [];
  const rawExports: { name: string; kind: number; index: number }[] = [];
  const localNames = new Map<number, Map<number, string>>();

  for (const section of sections(bytes)) {
    const r = new Reader(bytes, section.start, section.end);
    switch (section.id) {
      case 0: {
        if (r.name() === "name") readNameSection(r, localNames);
        break;
      }
      case 1: {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const form = r.byte();
          if (form !== 0x60) throw new WasmFormatError(`unsupported type form 0x${form.toString(16)} (GC proposal?)`);
          const params = Array.from({ length: r.u32() }, () => r.valueType());
          const results = Array.from({ length: r.u32() }, () => r.valueType());
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const module = r.name();
          const name = r.name();
          const kindCode = r.byte();
          const kind = EXTERNAL_KINDS[kindCode];
          if (!kind) throw new WasmFormatError(`unknown import kind ${kindCode}`);
          const entry: ImportEntry = { module, name, kind };
          if (kind === "function") {
            const typeIndex = r.u32();
            functionTypes.push(typeIndex);
            entry.signature = types[typeIndex];
          } else if (kind === "table") {
            r.byte();
            r.limits();
          } else if (kind === "memory") {
            const { min, max } = r.limits();
            memories.push({ minPages: min, maxPages: max, imported: true });
          } else if (kind === "global") {
            r.byte();
            r.byte();
          } else {
            r.byte();
            r.u32();
          }
          imports.push(entry);
        }
        break;
      }
      case 3: {
        const count = r.u32();
        for (let i = 0; i < count; i++) functionTypes.push(r.u32());
        break;
      }
      case 5: {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const { min, max } = r.limits();
          memories.push({ minPages: min, maxPages: max, imported: false });
        }
        break;
      }
      case 7: {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const name = r.name();
          const kind = r.byte();
          const index = r.u32();
          rawExports.push({ name, kind, index });
        }
        break;
      }
    }
  }

  const functions: ExportedFunction[] = [];
  const otherExports: { name: string; kind: string }[] = [];
  for (const exp of rawExports) {
    if (exp.kind !== 0) {
      otherExports.push({ name: exp.name, kind: EXTERNAL_KINDS[exp.kind] ?? `kind ${exp.kind}` });
      continue;
    }
    const typeIndex = functionTypes[exp.index];
    const signature = typeIndex === undefined ? undefined : types[typeIndex];
    if (!signature) throw new WasmFormatError(`export "${exp.name}" refers to an unknown function`);
    const names = localNames.get(exp.index);
    functions.push({
      name: exp.name,
      signature,
      paramNames: signature.params.map((_, i) => names?.get(i)),
    });
  }
  return { functions, otherExports, imports, memories };
}

function readNameSection(r: Reader, localNames: Map<number, Map<number, string>>): void {
  try {
    while (r.pos < r.end) {
      const id = r.byte();
      const size = r.u32();
      const end = r.pos + size;
      if (id === 2) {
        const funcCount = r.u32();
        for (let i = 0; i < funcCount; i++) {
          const funcIndex = r.u32();
          const names = new Map<number, string>();
          const localCount = r.u32();
          for (let j = 0; j < localCount; j++) {
            const localIndex = r.u32();
            names.set(localIndex, r.name());
          }
          localNames.set(funcIndex, names);
        }
      }
      r.pos = end;
    }
  } catch {
    // A damaged name section only costs us parameter names; the module itself may be fine.
  }
}

const PAGE = 65536;

export function pagesForMegabytes(mb: number): number {
  return Math.max(1, Math.floor((mb * 1024 * 1024) / PAGE));
}

/**
 * Returns a copy of the module whose own memories declare a maximum of at most `maxPages`,
 * so `memory.grow` fails at the cap instead of exhausting the host. Imported memories are
 * capped by whoever provides them.
 */
export function capMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  const memorySection = sections(bytes).find((s) => s.id === 5);
  if (!memorySection) return bytes;
  const r = new Reader(bytes, memorySection.start, memorySection.end);
  const count = r.u32();
  const body: number[] = [...encodeU32(count)];
  for (let i = 0; i < count; i++) {
    const { min, max, flags } = r.limits();
    if (flags & 0x04) return bytes; // memory64: leave alone, its limits use another encoding
    const shared = flags & 0x02;
    const newMax = Math.max(min, Math.min(max ?? maxPages, maxPages));
    body.push(0x01 | shared, ...encodeU32(min), ...encodeU32(newMax));
  }
  return replaceSection(bytes, memorySection, body);
}

/** A copy of the module with one section's contents replaced (same id, same place). */
function replaceSection(bytes: Uint8Array, section: Section, body: ArrayLike<number>): Uint8Array {
  const header = [section.id, ...encodeU32(body.length)];
  const out = new Uint8Array(bytes.length - (section.end - section.headerStart) + header.length + body.length);
  out.set(bytes.subarray(0, section.headerStart), 0);
  out.set(header, section.headerStart);
  out.set(body, section.headerStart + header.length);
  out.set(bytes.subarray(section.end), section.headerStart + header.length + body.length);
  return out;
}

/** Prefix of the exports WasmForge adds so a fresh instance's globals can be reset between calls. */
export const GLOBAL_EXPORT_PREFIX = "__wasmforge_global_";

/**
 * Exports every mutable global the module keeps to itself, so a used instance can be put back to
 * its just-instantiated state (memory bytes + globals) instead of instantiating again for each
 * call. Returns the names of all mutable globals' exports, or undefined when that is not possible
 * (an init expression or a type WasmForge does not decode, or no export section).
 */
export function exposeMutableGlobals(bytes: Uint8Array): { bytes: Uint8Array; globals: string[] } | undefined {
  const all = sections(bytes);
  let importedGlobals = 0;
  const mutable: number[] = [];
  const exported = new Map<number, string>();
  let exportSection: Section | undefined;
  try {
    for (const section of all) {
      const r = new Reader(bytes, section.start, section.end);
      if (section.id === 2) {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          r.name();
          r.name();
          const kind = r.byte();
          if (kind === 0 || kind === 4) r.u32();
          else if (kind === 1) (r.byte(), r.limits());
          else if (kind === 2) r.limits();
          else if (kind === 3) {
            r.byte();
            if (r.byte() === 1) return undefined; // an imported mutable global is shared state we cannot reset
            importedGlobals++;
          } else return undefined;
        }
      } else if (section.id === 6) {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const type = r.valueType();
          if (type === "v128") return undefined; // not readable from JavaScript
          if (r.byte() === 1) mutable.push(importedGlobals + i);
          if (!skipConstExpr(r)) return undefined;
        }
      } else if (section.id === 7) {
        exportSection = section;
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const name = r.name();
          const kind = r.byte();
          const index = r.u32();
          if (kind === 3) exported.set(index, name);
        }
      }
    }
  } catch {
    return undefined;
  }
  if (mutable.length === 0) return { bytes, globals: [] };
  if (!exportSection) return undefined;
  const added = mutable.filter((i) => !exported.has(i));
  const names = mutable.map((i) => exported.get(i) ?? `${GLOBAL_EXPORT_PREFIX}${i}`);
  if (added.length === 0) return { bytes, globals: names };

  const r = new Reader(bytes, exportSection.start, exportSection.end);
  const count = r.u32();
  const encoder = new TextEncoder();
  const extra: number[] = [];
  for (const index of added) {
    const name = encoder.encode(`${GLOBAL_EXPORT_PREFIX}${index}`);
    extra.push(...encodeU32(name.length), ...name, 3, ...encodeU32(index));
  }
  const body = [...encodeU32(count + added.length), ...bytes.subarray(r.pos, exportSection.end), ...extra];
  return { bytes: replaceSection(bytes, exportSection, body), globals: names };
}

/** Skips a constant expression (MVP and extended-const); false when it uses anything else. */
function skipConstExpr(r: Reader): boolean {
  for (;;) {
    const op = r.byte();
    switch (op) {
      case 0x0b:
        return true;
      case 0x41:
      case 0x42:
      case 0x23:
      case 0xd2:
        r.skipLeb();
        break;
      case 0x43:
        r.pos += 4;
        break;
      case 0x44:
        r.pos += 8;
        break;
      case 0xd0:
        r.byte();
        break;
      case 0x6a:
      case 0x6b:
      case 0x6c:
      case 0x7c:
      case 0x7d:
      case 0x7e:
        break;
      default:
        return false;
    }
  }
}

function encodeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

export function formatSignature(sig: FuncSignature, names?: (string | undefined)[]): string {
  const params = sig.params.map((t, i) => (names?.[i] ? `${names[i]}: ${t}` : t)).join(", ");
  const results = sig.results.length === 0 ? "()" : sig.results.join(", ");
  return `(${params}) -> ${results}`;
}
