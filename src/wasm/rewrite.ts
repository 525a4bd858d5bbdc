// Rewrites a module before it is compiled: caps its memory, and exports the state WasmForge must
// reset between calls. Works from what the reader recorded (src/wasm/reader.ts); each rewrite
// replaces one section and leaves the rest of the bytes as they are.

import { Reader, sections, type Section, type WasmInfo } from "./reader.js";

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

/** Prefixes of the exports WasmForge adds so a fresh instance can be put back between calls. */
export const GLOBAL_EXPORT_PREFIX = "__wasmforge_global_";
export const TABLE_EXPORT_PREFIX = "__wasmforge_table_";

export interface ResettableState {
  bytes: Uint8Array;
  /** Export names of every mutable global. */
  globals: string[];
  /** Export names of every table the module defines. */
  tables: string[];
}

/**
 * Exports every mutable global and every table the module keeps to itself, so a used instance can
 * be put back to its just-instantiated state (memory bytes, globals, tables) instead of being
 * instantiated again for each call. Undefined when that is not possible: the module shares
 * mutable state with its host (an imported mutable global or table), drops segments, has a
 * global JavaScript cannot read (v128) or an init expression WasmForge does not decode.
 */
export function exposeResettableState(bytes: Uint8Array, info: WasmInfo): ResettableState | undefined {
  if (info.dropsSegments) return undefined;
  if (info.globals.some((g) => g.imported && g.mutable) || info.tables.some((t) => t.imported)) return undefined;
  if (info.globals.some((g) => !g.imported && (!g.plainInit || (g.mutable && g.type === "v128")))) return undefined;
  const mutable = info.globals.filter((g) => g.mutable).map((g) => g.index);
  const tables = info.tables.map((t) => t.index);
  if (mutable.length + tables.length === 0) return { bytes, globals: [], tables: [] };

  const exported = (kind: "global" | "table") => new Map(info.exports.filter((e) => e.kind === kind).map((e) => [e.index, e.name]));
  const exportedGlobals = exported("global");
  const exportedTables = exported("table");
  const added: { name: string; kind: number; index: number }[] = [];
  const name = (index: number, known: Map<number, string>, prefix: string, kind: number) => {
    const existing = known.get(index);
    if (existing !== undefined) return existing;
    added.push({ name: `${prefix}${index}`, kind, index });
    return `${prefix}${index}`;
  };
  const state = {
    globals: mutable.map((i) => name(i, exportedGlobals, GLOBAL_EXPORT_PREFIX, 3)),
    tables: tables.map((i) => name(i, exportedTables, TABLE_EXPORT_PREFIX, 1)),
  };
  if (added.length === 0) return { bytes, ...state };
  return { bytes: addExports(bytes, added), ...state };
}

/** A copy of the module with more exports (an export section is added when there is none). */
function addExports(bytes: Uint8Array, added: { name: string; kind: number; index: number }[]): Uint8Array {
  const encoder = new TextEncoder();
  const extra: number[] = [];
  for (const exp of added) {
    const name = encoder.encode(exp.name);
    extra.push(...encodeU32(name.length), ...name, exp.kind, ...encodeU32(exp.index));
  }
  const all = sections(bytes);
  const existing = all.find((s) => s.id === 7);
  if (existing) {
    const r = new Reader(bytes, existing.start, existing.end);
    const count = r.u32();
    return replaceSection(bytes, existing, [...encodeU32(count + added.length), ...bytes.subarray(r.pos, existing.end), ...extra]);
  }
  // Known sections have a fixed order (custom sections may sit anywhere): the export section goes
  // before the first one that must follow it.
  const next = all.find((s) => s.id !== 0 && SECTION_ORDER.indexOf(s.id) > SECTION_ORDER.indexOf(7));
  return insertSection(bytes, next?.headerStart ?? bytes.length, 7, [...encodeU32(added.length), ...extra]);
}

/** Section ids in the order the binary format requires (the tag section, 13, sits between memory and global). */
export const SECTION_ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

/** A copy of the module with one section's contents replaced (same id, same place). */
export function replaceSection(bytes: Uint8Array, section: Section, body: ArrayLike<number>): Uint8Array {
  const header = [section.id, ...encodeU32(body.length)];
  const out = new Uint8Array(bytes.length - (section.end - section.headerStart) + header.length + body.length);
  out.set(bytes.subarray(0, section.headerStart), 0);
  out.set(header, section.headerStart);
  out.set(body, section.headerStart + header.length);
  out.set(bytes.subarray(section.end), section.headerStart + header.length + body.length);
  return out;
}

/** A copy of the module with a new section inserted at byte offset `at` (a section boundary). */
export function insertSection(bytes: Uint8Array, at: number, id: number, body: ArrayLike<number>): Uint8Array {
  const header = [id, ...encodeU32(body.length)];
  const out = new Uint8Array(bytes.length + header.length + body.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(header, at);
  out.set(body, at + header.length);
  out.set(bytes.subarray(at), at + header.length + body.length);
  return out;
}

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}
