// Reads what WebAssembly.Module.exports() does not tell: function signatures, parameter names
// (from the "name" custom section), memory limits, globals and tables. Node 20 has no type
// reflection, so the binary format is read directly, in one pass; discovery and runtime preparation
// (src/wasm/rewrite.ts) both work from what this records.

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

export type ExternalKind = "function" | "table" | "memory" | "global" | "tag";

export interface ImportEntry {
  module: string;
  name: string;
  kind: ExternalKind;
  signature?: FuncSignature;
}

export interface MemoryLimits {
  minPages: number;
  maxPages?: number;
  imported: boolean;
}

export interface GlobalInfo {
  /** Index in the module's global index space (imported globals first). */
  index: number;
  type: ValueType;
  mutable: boolean;
  imported: boolean;
  /** Defined globals: whether the init expression is one WasmForge can read (MVP and extended-const). */
  plainInit: boolean;
}

export interface TableInfo {
  index: number;
  imported: boolean;
  minEntries: number;
}

export interface ExportEntry {
  name: string;
  kind: ExternalKind;
  index: number;
}

export interface WasmInfo {
  functions: ExportedFunction[];
  /** Exported names that are not functions (memory, globals, tables). */
  otherExports: { name: string; kind: string }[];
  exports: ExportEntry[];
  imports: ImportEntry[];
  memories: MemoryLimits[];
  globals: GlobalInfo[];
  tables: TableInfo[];
  /**
   * The module can change state an instance cannot be put back to from outside: it drops data
   * segments (a data count section marks memory.init/data.drop) or has passive element segments
   * (elem.drop). A "fresh" instance of such a module is built anew for each call.
   */
  dropsSegments: boolean;
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

const EXTERNAL_KINDS: readonly ExternalKind[] = ["function", "table", "memory", "global", "tag"];

/** A cursor over a byte range; every read checks the range. */
export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
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
  skip(count: number): void {
    if (this.pos + count > this.end) throw new WasmFormatError("unexpected end of module");
    this.pos += count;
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

export interface Section {
  id: number;
  start: number;
  end: number;
  /** Offset of the section id byte, for rewriting. */
  headerStart: number;
}

/** The binary's layer: a core module, or a component (the component model's binary format). */
export function binaryKind(bytes: Uint8Array): "module" | "component" | undefined {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) return undefined;
  const layer = bytes[6]! | (bytes[7]! << 8);
  if (layer === 1) return "component";
  return bytes[4] === 1 && bytes[5] === 0 && layer === 0 ? "module" : undefined;
}

export function sections(bytes: Uint8Array): Section[] {
  const kind = binaryKind(bytes);
  if (kind === undefined) {
    if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
      throw new WasmFormatError("not a WebAssembly module (missing \\0asm header)");
    }
    throw new WasmFormatError("unsupported WebAssembly version (a newer binary format?)");
  }
  if (kind === "component") throw new WasmFormatError("this is a WebAssembly component, not a core module");
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
  const globals: GlobalInfo[] = [];
  const tables: TableInfo[] = [];
  const exports: ExportEntry[] = [];
  const localNames = new Map<number, Map<number, string>>();
  let dropsSegments = false;

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
            tables.push({ index: tables.length, imported: true, minEntries: r.limits().min });
          } else if (kind === "memory") {
            const { min, max } = r.limits();
            memories.push({ minPages: min, maxPages: max, imported: true });
          } else if (kind === "global") {
            const type = r.valueType();
            globals.push({ index: globals.length, type, mutable: r.byte() === 1, imported: true, plainInit: false });
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
      case 4: {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          r.byte();
          tables.push({ index: tables.length, imported: false, minEntries: r.limits().min });
        }
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
      case 6: {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const type = r.valueType();
          const mutable = r.byte() === 1;
          const plainInit = skipConstExpr(r);
          globals.push({ index: globals.length, type, mutable, imported: false, plainInit });
          // An init expression we cannot walk leaves the rest of the section unreadable.
          if (!plainInit) break;
        }
        break;
      }
      case 7: {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const name = r.name();
          const kindCode = r.byte();
          const index = r.u32();
          exports.push({ name, kind: EXTERNAL_KINDS[kindCode] ?? "function", index });
          if (!EXTERNAL_KINDS[kindCode]) throw new WasmFormatError(`unknown export kind ${kindCode}`);
        }
        break;
      }
      case 9: {
        // Flags 1 and 5 are passive element segments: elem.drop can change them for good.
        const count = r.u32();
        if (count > 0 && hasPassiveElements(r, count)) dropsSegments = true;
        break;
      }
      case 12:
        // A data count section is required exactly when code uses memory.init or data.drop.
        dropsSegments = true;
        break;
    }
  }

  const functions: ExportedFunction[] = [];
  const otherExports: { name: string; kind: string }[] = [];
  for (const exp of exports) {
    if (exp.kind !== "function") {
      otherExports.push({ name: exp.name, kind: exp.kind });
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
  return { functions, otherExports, exports, imports, memories, globals, tables, dropsSegments };
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

/** Whether any element segment is passive; walks segments only as far as needed. */
function hasPassiveElements(r: Reader, count: number): boolean {
  try {
    for (let i = 0; i < count; i++) {
      const flags = r.u32();
      if (flags === 1 || flags === 5) return true;
      if (flags & 0b010 && !(flags & 0b001)) r.u32(); // explicit table index (flags 2, 6)
      if (!(flags & 0b001) && !skipConstExpr(r)) return true; // active: offset expression
      if (flags & 0b100) {
        // expressions: an element kind is a reference type (flags 5, 6, 7) or implied (4)
        if (flags !== 4) r.byte();
        const n = r.u32();
        for (let j = 0; j < n; j++) if (!skipConstExpr(r)) return true;
      } else {
        if (flags !== 0) r.byte(); // elemkind
        const n = r.u32();
        for (let j = 0; j < n; j++) r.u32();
      }
    }
  } catch {
    return true; // unreadable: assume the worst
  }
  return false;
}

/** Skips a constant expression (MVP and extended-const); false when it uses anything else. */
export function skipConstExpr(r: Reader): boolean {
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
        r.skip(4);
        break;
      case 0x44:
        r.skip(8);
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

export function formatSignature(sig: FuncSignature, names?: (string | undefined)[]): string {
  const params = sig.params.map((t, i) => (names?.[i] ? `${names[i]}: ${t}` : t)).join(", ");
  const results = sig.results.length === 0 ? "()" : sig.results.join(", ");
  return `(${params}) -> ${results}`;
}
