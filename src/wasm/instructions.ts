// Decodes the instructions of function bodies (the code section) far enough to step over each one:
// WebAssembly 2.0 and the proposals real toolchains emit or V8 runs — SIMD and relaxed SIMD,
// bulk memory and reference types, threads, exception handling (legacy try/catch and try_table),
// tail calls, typed function references, multi-memory, memory64, extended const, GC.
//
// It runs on every module WasmForge meters, some of them several megabytes, so it allocates nothing
// per instruction: one table lookup says how the immediates after an opcode are laid out. It checks
// lengths, not types; V8 validates the module when it compiles it.

import { Reader, WasmFormatError, sections } from "./reader.js";

// Immediate layouts.
const BAD = 0; // not an instruction WasmForge knows
const NONE = 1;
const LEB = 2; // one LEB128 number: index, label, constant, heap type, memory index
const LEB2 = 3; // two LEB128 numbers
const BLOCK = 4; // a block type
const MEMARG = 5; // alignment flags (bit 6: a memory index follows), offset (u64 with memory64)
const MEMARG_LANE = 6; // memarg and a lane byte
const BYTES1 = 7; // lane index, atomic.fence's reserved byte
const BYTES4 = 8;
const BYTES8 = 9;
const BYTES16 = 10; // v128.const, i8x16.shuffle
const BR_TABLE = 11;
const SELECT_T = 12;
const TRY_TABLE = 13;
const BR_ON_CAST = 14;

function layout(size: number, ranges: [from: number, to: number, kind: number][]): Uint8Array {
  const table = new Uint8Array(size);
  for (const [from, to, kind] of ranges) table.fill(kind, from, to + 1);
  return table;
}

/** One-byte opcodes. */
const PLAIN = layout(256, [
  [0x00, 0x01, NONE], // unreachable, nop
  [0x02, 0x04, BLOCK], // block, loop, if
  [0x05, 0x05, NONE], // else
  [0x06, 0x06, BLOCK], // try (legacy exceptions)
  [0x07, 0x09, LEB], // catch tag, throw tag, rethrow label
  [0x0a, 0x0b, NONE], // throw_ref, end
  [0x0c, 0x0d, LEB], // br, br_if
  [0x0e, 0x0e, BR_TABLE],
  [0x0f, 0x0f, NONE], // return
  [0x10, 0x10, LEB], // call
  [0x11, 0x11, LEB2], // call_indirect type table
  [0x12, 0x12, LEB], // return_call
  [0x13, 0x13, LEB2], // return_call_indirect
  [0x14, 0x15, LEB], // call_ref, return_call_ref
  [0x18, 0x18, LEB], // delegate label
  [0x19, 0x1b, NONE], // catch_all, drop, select
  [0x1c, 0x1c, SELECT_T],
  [0x1f, 0x1f, TRY_TABLE],
  [0x20, 0x26, LEB], // local.*, global.*, table.get, table.set
  [0x28, 0x3e, MEMARG], // loads and stores
  [0x3f, 0x42, LEB], // memory.size, memory.grow (memory index), i32.const, i64.const
  [0x43, 0x43, BYTES4],
  [0x44, 0x44, BYTES8],
  [0x45, 0xc4, NONE], // numeric, sign extension
  [0xd0, 0xd0, LEB], // ref.null heaptype
  [0xd1, 0xd1, NONE], // ref.is_null
  [0xd2, 0xd2, LEB], // ref.func
  [0xd3, 0xd4, NONE], // ref.eq, ref.as_non_null
  [0xd5, 0xd6, LEB], // br_on_null, br_on_non_null
]);

/** 0xFC: saturating truncation, bulk memory, tables, wide arithmetic. */
const MISC = layout(0x17, [
  [0x00, 0x07, NONE], // *.trunc_sat_*
  [0x08, 0x08, LEB2], // memory.init data memory
  [0x09, 0x09, LEB], // data.drop
  [0x0a, 0x0a, LEB2], // memory.copy memory memory
  [0x0b, 0x0b, LEB], // memory.fill memory
  [0x0c, 0x0c, LEB2], // table.init elem table
  [0x0d, 0x0d, LEB], // elem.drop
  [0x0e, 0x0e, LEB2], // table.copy table table
  [0x0f, 0x11, LEB], // table.grow, table.size, table.fill
  [0x13, 0x16, NONE], // i64.add128, i64.sub128, i64.mul_wide_s/u
]);

/** 0xFD: SIMD and relaxed SIMD. Gaps in the numbering are opcodes the proposal never assigned. */
const SIMD = layout(0x114, [
  [0x00, 0x0b, MEMARG], // v128.load*, v128.store
  [0x0c, 0x0d, BYTES16], // v128.const, i8x16.shuffle
  [0x0e, 0x14, NONE], // swizzle, splats
  [0x15, 0x22, BYTES1], // extract_lane, replace_lane
  [0x23, 0x53, NONE],
  [0x54, 0x5b, MEMARG_LANE], // v128.load*_lane, v128.store*_lane
  [0x5c, 0x5d, MEMARG], // v128.load32_zero, v128.load64_zero
  [0x5e, 0x113, NONE], // the rest, relaxed SIMD from 0x100
]);
for (const unassigned of [0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee]) {
  SIMD[unassigned] = BAD;
}

/** 0xFE: threads (atomics). */
const ATOMIC = layout(0x4f, [
  [0x00, 0x02, MEMARG], // memory.atomic.notify, wait32, wait64
  [0x03, 0x03, BYTES1], // atomic.fence
  [0x10, 0x4e, MEMARG], // atomic loads, stores, read-modify-write, cmpxchg
]);

/** 0xFB: GC. */
const GC = layout(0x1f, [
  [0x00, 0x01, LEB], // struct.new, struct.new_default
  [0x02, 0x05, LEB2], // struct.get(_s/_u) type field, struct.set
  [0x06, 0x07, LEB], // array.new, array.new_default
  [0x08, 0x0a, LEB2], // array.new_fixed type n, array.new_data, array.new_elem
  [0x0b, 0x0e, LEB], // array.get(_s/_u), array.set
  [0x0f, 0x0f, NONE], // array.len
  [0x10, 0x10, LEB], // array.fill
  [0x11, 0x13, LEB2], // array.copy, array.init_data, array.init_elem
  [0x14, 0x17, LEB], // ref.test, ref.cast (nullable or not) heaptype
  [0x18, 0x19, BR_ON_CAST], // br_on_cast, br_on_cast_fail
  [0x1a, 0x1e, NONE], // any.convert_extern, extern.convert_any, ref.i31, i31.get_s/u
]);

const PREFIXES: Record<number, { table: Uint8Array; family: string }> = {
  0xfb: { table: GC, family: "GC" },
  0xfc: { table: MISC, family: "bulk memory / reference types / saturating truncation" },
  0xfd: { table: SIMD, family: "SIMD" },
  0xfe: { table: ATOMIC, family: "threads" },
};

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, "0")}`;
}

/**
 * Steps over the instruction at `r.pos`, opcode and immediates, and leaves `r.pos` after it.
 * Throws WasmFormatError, naming the opcode and its byte offset, for one WasmForge does not know.
 */
export function skipInstruction(r: Reader): void {
  const bytes = r.bytes;
  const at = r.pos;
  if (at >= r.end) throw new WasmFormatError("unexpected end of module");
  const op = bytes[at]!;
  let kind = PLAIN[op]!;
  let pos = at + 1;
  if (op >= 0xfb && op <= 0xfe) {
    const prefix = PREFIXES[op]!;
    r.pos = pos;
    const sub = r.u32();
    pos = r.pos;
    kind = sub < prefix.table.length ? prefix.table[sub]! : BAD;
    if (kind === BAD) {
      throw new WasmFormatError(`unknown ${prefix.family} instruction ${hex(op)} ${hex(sub)} at byte offset ${at}`);
    }
  }
  // The common layouts step over LEB128 numbers by hand, checking the end once: a byte read past
  // the array is undefined, which ends a number like a byte without the continuation bit.
  switch (kind) {
    case NONE:
      break;
    case LEB:
      while (bytes[pos++]! & 0x80);
      break;
    case LEB2:
      while (bytes[pos++]! & 0x80);
      while (bytes[pos++]! & 0x80);
      break;
    case MEMARG:
    case MEMARG_LANE: {
      const flags = bytes[pos]!;
      if (flags & 0x80) {
        // flags of more than one byte: rare enough for the reader
        r.pos = pos;
        skipMemarg(r);
        pos = r.pos;
      } else {
        pos++;
        if (flags & 0x40) while (bytes[pos++]! & 0x80); // multi-memory: explicit memory index
        while (bytes[pos++]! & 0x80); // offset (u64 with memory64)
      }
      if (kind === MEMARG_LANE) pos++;
      break;
    }
    case BYTES1:
      pos += 1;
      break;
    case BYTES4:
      pos += 4;
      break;
    case BYTES8:
      pos += 8;
      break;
    case BYTES16:
      pos += 16;
      break;
    default:
      r.pos = pos;
      skipRare(r, kind, op, at);
      return;
  }
  if (pos > r.end) throw new WasmFormatError("unexpected end of module");
  r.pos = pos;
}

function skipRare(r: Reader, kind: number, op: number, at: number): void {
  switch (kind) {
    case BLOCK:
      skipBlockType(r);
      return;
    case BR_TABLE: {
      const count = r.u32();
      for (let i = 0; i <= count; i++) r.skipLeb();
      return;
    }
    case SELECT_T: {
      const count = r.u32();
      for (let i = 0; i < count; i++) skipValueType(r);
      return;
    }
    case TRY_TABLE:
      skipBlockType(r);
      skipCatchClauses(r);
      return;
    case BR_ON_CAST:
      r.skip(1); // cast flags
      r.skipLeb(); // label
      r.skipLeb(); // source heap type
      r.skipLeb(); // target heap type
      return;
    default:
      throw new WasmFormatError(`unknown instruction ${hex(op)} at byte offset ${at}`);
  }
}

/** A block type: empty (0x40), a value type, or a type index (s33). */
export function skipBlockType(r: Reader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) r.skipLeb(); // (ref null? heaptype)
  else if (b & 0x80) r.skipLeb(); // a type index of more than one byte
}

/** A value type: one byte, or a typed reference (0x63/0x64 and a heap type). */
export function skipValueType(r: Reader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) r.skipLeb();
}

function skipMemarg(r: Reader): void {
  const flags = r.u32();
  if (flags & 0x40) r.skipLeb(); // multi-memory: explicit memory index
  r.skipLeb(); // offset
}

/** The catch clauses of a try_table: catch and catch_ref carry a tag and a label, catch_all(_ref) a label. */
export function skipCatchClauses(r: Reader): void {
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    const kind = r.byte();
    if (kind <= 1) r.skipLeb();
    else if (kind > 3) throw new WasmFormatError(`unknown try_table catch kind ${kind} at byte offset ${at}`);
    r.skipLeb();
  }
}

/** Steps over a function body's local declarations; returns how many locals they declare. */
export function skipLocals(r: Reader): number {
  const groups = r.u32();
  let locals = 0;
  for (let i = 0; i < groups; i++) {
    locals += r.u32();
    skipValueType(r);
  }
  return locals;
}

/** Opcodes that open a block closed by `end` (try may instead close with delegate). */
export function opensBlock(op: number): boolean {
  return op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06 || op === 0x1f;
}

export interface CodeStats {
  functions: number;
  instructions: number;
}

/** Called with each instruction's first opcode byte and its offset in the module. */
export type InstructionVisitor = (op: number, at: number) => void;

/**
 * Decodes every function body of a module, checking that blocks nest and that each body ends
 * exactly with its closing `end`; counts what it read, and shows each instruction to `visit`.
 * WasmFormatError says which body failed.
 */
export function walkCode(bytes: Uint8Array, visit?: InstructionVisitor): CodeStats {
  const code = sections(bytes).find((s) => s.id === 10);
  const stats: CodeStats = { functions: 0, instructions: 0 };
  if (!code) return stats;
  const r = new Reader(bytes, code.start, code.end);
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.pos + size;
    if (end > code.end) throw new WasmFormatError(`code body #${i} runs past the code section`);
    const body = new Reader(bytes, r.pos, end);
    try {
      skipLocals(body);
      stats.instructions += walkExpression(body, visit);
    } catch (err) {
      if (err instanceof WasmFormatError) throw new WasmFormatError(`code body #${i}: ${err.message}`);
      throw err;
    }
    stats.functions++;
    r.pos = end;
  }
  return stats;
}

/** Decodes instructions to the `end` that closes the expression, which must be the reader's end. */
function walkExpression(r: Reader, visit: InstructionVisitor | undefined): number {
  let depth = 1;
  let instructions = 0;
  while (depth > 0) {
    if (r.pos >= r.end) throw new WasmFormatError(`body ends inside a block (${depth} left open)`);
    const op = r.bytes[r.pos]!;
    visit?.(op, r.pos);
    if (op === 0x0b || op === 0x18) depth--; // end, delegate
    else if (opensBlock(op)) depth++;
    skipInstruction(r);
    instructions++;
  }
  if (r.pos !== r.end) throw new WasmFormatError(`instructions continue after the body's final end, at byte offset ${r.pos}`);
  return instructions;
}
