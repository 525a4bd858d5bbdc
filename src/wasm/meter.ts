// Makes a module stoppable from inside, the way Wasmtime's fuel does: every function entry and
// every loop header spends from a fuel counter, and when the counter runs out the code calls a
// host function. That function decides (deadline, time slice) whether the call may go on: it
// returns a refill, or stops the call, either by throwing or by returning a negative number.
// A thrown JS exception unwinds the wasm; a module with exception handling can catch it with
// catch_all, but the balance stays negative, so its next check outside that handler asks again
// (the host throws again). A negative answer traps right there, and no wasm handler catches a
// trap: the quickest stop.
//
// What the rewrite adds to a module:
//   - an imported function METER_NAMESPACE.METER_FUNCTION of type () -> i32, appended as the last
//     imported function, so every defined function's index moves up by one (remapped below);
//   - a mutable i32 global, appended as the last global (no global index moves), exported as
//     FUEL_EXPORT: the host sets the starting fuel and reads what is left. It starts at 0, so a
//     start function asks the host before it runs.
//
// Cost model. A check point charges, in advance, the number of instructions (every instruction
// but `end`) of its region: a function entry's region is the body outside any loop, a loop
// header's region is the loop's body outside nested loops. Between two passes through check
// points, control only moves forward (the only backward jump is to a loop header, and a call
// enters a function entry), so each instruction of a region runs at most once per charge:
// fuel spent >= instructions executed, and no more than one region's worth of instructions runs
// past the moment fuel ran out. Branches that skip code are charged as if they ran it.
//
// The check, where `f` is the fuel and COST the region's instruction count:
//   f = f - COST; if (f < 0) { f = refill(f) }
// where refill, a function the rewrite appends, puts the balance in the global, calls
// out_of_fuel, traps on a negative answer and returns it. So when out_of_fuel is called the fuel
// global holds the (negative) balance after the charge, and its answer becomes the new balance.
// At a loop header the refill runs outside the loop (see BodyMeter).
//
// Where the count lives while a function runs (MeterOptions.counter):
//   "global": every check reads and writes the global.
//   "local" (default): a function with a loop that makes no calls copies the global into a local
//     at entry, spends from the local, and writes it back before it calls, returns, throws or
//     branches out of the body; it reads the global back after calls and at catch clauses. Such
//     a tight loop then keeps its counter in a register instead of a round trip through memory
//     every iteration (bench/meter.mjs measures the difference). Other functions use the global:
//     where every loop calls, the write-backs would cost more than they save. If an exception
//     skips a write-back, the fuel a callee spent is forgotten (accounting, never safety: every
//     check still spends).

import { Reader, WasmFormatError, sections, type Section } from "./reader.js";
import { encodeU32, SECTION_ORDER } from "./rewrite.js";
import { skipBlockType, skipCatchClauses, skipInstruction, skipValueType } from "./instructions.js";
import { ByteWriter } from "./writer.js";

export const METER_NAMESPACE = "wasmforge:meter";
export const METER_FUNCTION = "out_of_fuel";
export const FUEL_EXPORT = "__wasmforge_fuel";

export type FuelCounter = "global" | "local";

export interface MeterOptions {
  /** Where functions with loops keep the count while they run; "local" unless told. */
  counter?: FuelCounter;
}

export interface MeteredModule {
  bytes: Uint8Array;
  /** The import the host must provide: a function () -> i32 returning the new fuel (negative: stop). */
  importModule: string;
  importName: string;
  /** The exported mutable i32 global holding the fuel. */
  fuelExport: string;
  counter: FuelCounter;
  /** Defined functions rewritten. */
  functions: number;
  /** Check points inserted (function entries and loop headers). */
  checks: number;
}

/** The module cannot be metered; serve it unmetered (in a worker) instead. */
export class MeterError extends Error {}

export function meterModule(bytes: Uint8Array, options: MeterOptions = {}): MeteredModule {
  try {
    return meter(bytes, options.counter ?? "local");
  } catch (err) {
    if (err instanceof WasmFormatError) throw new MeterError(`cannot meter this module: ${err.message}`, { cause: err });
    throw err;
  }
}

/** What the rewrite needs to know before it touches code: index spaces and function types. */
interface Layout {
  typeCount: number;
  typeParams: number[];
  /** Index of an existing plain `() -> i32` type (the import's), or -1. */
  fuelType: number;
  /** Index of an existing plain `(i32) -> i32` type (the refill helper's), or -1. */
  refillType: number;
  importedFuncs: number;
  importedGlobals: number;
  definedGlobals: number;
  funcTypes: number[];
}

function meter(bytes: Uint8Array, counter: FuelCounter): MeteredModule {
  const all = sections(bytes);
  const layout = readLayout(bytes, all);
  const newTypes: number[] = [];
  let newTypeCount = 0;
  const typeIndex = (existing: number, signature: readonly number[]) => {
    if (existing >= 0) return existing;
    newTypes.push(0x60, ...signature);
    return layout.typeCount + newTypeCount++;
  };
  const fuelType = typeIndex(layout.fuelType, FUEL_TYPE);
  const definedFuncs = layout.funcTypes.length;
  // Checks call a helper the rewrite appends as the last function (no index moves), so each check
  // carries one call, not the host call and the stop test.
  const refillType = definedFuncs > 0 ? typeIndex(layout.refillType, REFILL_TYPE) : -1;
  const refillFunction = layout.importedFuncs + 1 + definedFuncs;
  const fuelGlobal = layout.importedGlobals + layout.definedGlobals;
  const shift = layout.importedFuncs;
  const replaced = new Map<Section, Uint8Array | null>();
  const inserted: { id: number; body: Uint8Array }[] = [];
  const find = (id: number) => all.find((s) => s.id === id);

  /** A vector section with `added` entries appended (the section is created when missing). */
  const withCount = (id: number, tail: (w: ByteWriter, r: Reader) => void, added: number, extra: readonly number[]) => {
    const section = find(id);
    const w = new ByteWriter((section ? section.end - section.start : 0) + extra.length + 8);
    if (section) {
      const r = new Reader(bytes, section.start, section.end);
      w.u32(r.u32() + added);
      tail(w, r);
      w.append(extra);
      replaced.set(section, w.bytes());
    } else {
      w.u32(added);
      w.append(extra);
      inserted.push({ id, body: w.bytes() });
    }
  };
  const copyRest = (w: ByteWriter, r: Reader) => w.copy(bytes, r.pos, r.end);

  if (newTypeCount > 0) withCount(1, copyRest, newTypeCount, newTypes);
  withCount(2, copyRest, 1, [...nameBytes(METER_NAMESPACE), ...nameBytes(METER_FUNCTION), 0x00, ...encodeU32(fuelType)]);
  if (definedFuncs > 0) withCount(3, copyRest, 1, encodeU32(refillType));
  withCount(6, (w, r) => spliceGlobals(r, new Splicer(w, r.pos, shift)), 1, [0x7f, 0x01, 0x41, 0x00, 0x0b]);
  withCount(7, (w, r) => spliceExports(r, new Splicer(w, r.pos, shift)), 1, [...nameBytes(FUEL_EXPORT), 0x03, ...encodeU32(fuelGlobal)]);

  const splice = (id: number, walk: (r: Reader, s: Splicer) => void) => {
    const section = find(id);
    if (!section) return;
    const w = new ByteWriter(section.end - section.start + 16);
    const r = new Reader(bytes, section.start, section.end);
    const s = new Splicer(w, r.pos, shift);
    walk(r, s);
    s.finish(r, section.end);
    replaced.set(section, w.bytes());
  };
  splice(4, spliceTables);
  splice(8, (r, s) => s.funcIndex(r));
  splice(9, spliceElements);

  let functions = 0;
  let checks = 0;
  const code = find(10);
  if (code) {
    const result = meterCode(bytes, code, layout, { fuelGlobal, refillFunction, counter });
    replaced.set(code, result.body);
    functions = result.functions;
    checks = result.checks;
  }

  for (const section of all) {
    if (section.id !== 0) continue;
    const r = new Reader(bytes, section.start, section.end);
    if (r.name() === "name") replaced.set(section, remapNames(bytes, section, shift));
  }

  return {
    bytes: assemble(bytes, all, replaced, inserted),
    importModule: METER_NAMESPACE,
    importName: METER_FUNCTION,
    fuelExport: FUEL_EXPORT,
    counter,
    functions,
    checks,
  };
}

// Signatures after the 0x60 form byte: () -> i32 and (i32) -> i32.
const FUEL_TYPE = [0x00, 0x01, 0x7f];
const REFILL_TYPE = [0x01, 0x7f, 0x01, 0x7f];

function sameBytes(bytes: Uint8Array, start: number, end: number, expected: readonly number[]): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[start + i] !== expected[i]) return false;
  return true;
}

function nameBytes(text: string): number[] {
  const encoded = new TextEncoder().encode(text);
  return [...encodeU32(encoded.length), ...encoded];
}

function readLayout(bytes: Uint8Array, all: Section[]): Layout {
  const layout: Layout = {
    typeCount: 0,
    typeParams: [],
    fuelType: -1,
    refillType: -1,
    importedFuncs: 0,
    importedGlobals: 0,
    definedGlobals: 0,
    funcTypes: [],
  };
  for (const section of all) {
    const r = new Reader(bytes, section.start, section.end);
    switch (section.id) {
      case 1: {
        layout.typeCount = r.u32();
        for (let i = 0; i < layout.typeCount; i++) {
          const form = r.byte();
          if (form !== 0x60) {
            throw new MeterError(
              `cannot meter this module: it defines GC-proposal types (type form 0x${form.toString(16)}), which WasmForge does not rewrite`,
            );
          }
          const start = r.pos;
          const params = r.u32();
          for (let j = 0; j < params; j++) skipValueType(r);
          const results = r.u32();
          for (let j = 0; j < results; j++) skipValueType(r);
          layout.typeParams.push(params);
          if (layout.fuelType < 0 && sameBytes(bytes, start, r.pos, FUEL_TYPE)) layout.fuelType = i;
          if (layout.refillType < 0 && sameBytes(bytes, start, r.pos, REFILL_TYPE)) layout.refillType = i;
        }
        break;
      }
      case 2: {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const module = r.name();
          const name = r.name();
          if (module === METER_NAMESPACE && name === METER_FUNCTION) {
            throw new MeterError(`cannot meter this module: it already imports ${METER_NAMESPACE}.${METER_FUNCTION} (metered twice?)`);
          }
          const kind = r.byte();
          if (kind === 0) {
            r.skipLeb();
            layout.importedFuncs++;
          } else if (kind === 1) {
            skipValueType(r);
            skipLimits(r);
          } else if (kind === 2) {
            skipLimits(r);
          } else if (kind === 3) {
            skipValueType(r);
            r.byte();
            layout.importedGlobals++;
          } else if (kind === 4) {
            r.byte();
            r.skipLeb();
          } else {
            throw new WasmFormatError(`unknown import kind ${kind}`);
          }
        }
        break;
      }
      case 3: {
        const count = r.u32();
        for (let i = 0; i < count; i++) layout.funcTypes.push(r.u32());
        break;
      }
      case 6:
        layout.definedGlobals = r.u32();
        break;
    }
  }
  return layout;
}

/** Table and memory limits: flags, minimum, maximum when flag 1, page size (custom-page-sizes) when flag 8. */
function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.skipLeb();
  if (flags & 0x01) r.skipLeb();
  if (flags & 0x08) r.skipLeb();
}

/**
 * Copies a section (or part of one) to a writer, re-encoding the function indices the new import
 * moved: `funcIndex` is called with the reader at each function index.
 */
class Splicer {
  constructor(
    readonly out: ByteWriter,
    private last: number,
    /** Imported functions before the new import: indices from here on move up by one. */
    readonly shift: number,
  ) {}

  funcIndex(r: Reader): void {
    const start = r.pos;
    const index = r.u32();
    if (index < this.shift) return;
    this.out.copy(r.bytes, this.last, start);
    this.out.u32(index + 1);
    this.last = r.pos;
  }

  finish(r: Reader, end: number): void {
    this.out.copy(r.bytes, this.last, end);
    this.last = end;
  }
}

/** A constant expression (global init, element item, offset): ref.func is the only function index in one. */
function spliceConstExpr(r: Reader, s: Splicer): void {
  for (;;) {
    const op = r.bytes[r.pos];
    if (op === 0x0b) {
      r.pos++;
      return;
    }
    if (op === 0xd2) {
      r.pos++;
      s.funcIndex(r);
    } else {
      skipInstruction(r);
    }
  }
}

function spliceGlobals(r: Reader, s: Splicer): void {
  while (r.pos < r.end) {
    skipValueType(r);
    r.byte(); // mutability
    spliceConstExpr(r, s);
  }
  s.finish(r, r.end);
}

function spliceExports(r: Reader, s: Splicer): void {
  while (r.pos < r.end) {
    const name = r.name();
    if (name === FUEL_EXPORT) throw new MeterError(`cannot meter this module: it already exports "${FUEL_EXPORT}" (metered twice?)`);
    const kind = r.byte();
    if (kind === 0) s.funcIndex(r);
    else r.skipLeb();
  }
  s.finish(r, r.end);
}

/** Tables of the typed-function-references proposal may carry an init expression (0x40 0x00 prefix). */
function spliceTables(r: Reader, s: Splicer): void {
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const withInit = r.bytes[r.pos] === 0x40 && r.bytes[r.pos + 1] === 0x00;
    if (withInit) r.skip(2);
    skipValueType(r);
    skipLimits(r);
    if (withInit) spliceConstExpr(r, s);
  }
}

/** Element segments: flags 0-3 list function indices, 4-7 list constant expressions. */
function spliceElements(r: Reader, s: Splicer): void {
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    if (flags > 7) throw new WasmFormatError(`unknown element segment flags ${flags}`);
    if (flags & 0b010 && !(flags & 0b001)) r.skipLeb(); // explicit table index (2, 6)
    if (!(flags & 0b001)) spliceConstExpr(r, s); // active: offset
    const expressions = (flags & 0b100) !== 0;
    if (flags & 0b011) {
      // element kind (0x00 = funcref) or reference type
      if (expressions) skipValueType(r);
      else r.byte();
    }
    const n = r.u32();
    for (let j = 0; j < n; j++) {
      if (expressions) spliceConstExpr(r, s);
      else s.funcIndex(r);
    }
  }
}

/**
 * The name section with function indices moved: function names (1) and local names (2).
 * Label names (3) are dropped, since the checks add blocks and so renumber labels. A damaged
 * name section is dropped whole: it only costs names in stack traces.
 */
function remapNames(bytes: Uint8Array, section: Section, shift: number): Uint8Array | null {
  try {
    const r = new Reader(bytes, section.start, section.end);
    r.name();
    const out = new ByteWriter(section.end - section.start + 16);
    out.copy(bytes, section.start, r.pos);
    const sub = new ByteWriter(256);
    while (r.pos < r.end) {
      const headerStart = r.pos;
      const id = r.byte();
      const size = r.u32();
      const end = r.pos + size;
      if (end > r.end) throw new WasmFormatError("name subsection runs past its section");
      if (id === 1 || id === 2) {
        sub.length = 0;
        const inner = new Reader(bytes, r.pos, end);
        const s = new Splicer(sub, inner.pos, shift);
        const count = inner.u32();
        for (let i = 0; i < count; i++) {
          s.funcIndex(inner);
          if (id === 1) {
            inner.skip(inner.u32());
          } else {
            const locals = inner.u32();
            for (let j = 0; j < locals; j++) {
              inner.skipLeb();
              inner.skip(inner.u32());
            }
          }
        }
        s.finish(inner, end);
        out.byte(id);
        out.u32(sub.length);
        out.copy(sub.buf, 0, sub.length);
      } else if (id !== 3) {
        out.copy(bytes, headerStart, end);
      }
      r.pos = end;
    }
    return out.bytes();
  } catch (err) {
    if (err instanceof WasmFormatError) return null;
    throw err;
  }
}

/** The module's sections in their order, some replaced or dropped, new ones placed where the format wants them. */
function assemble(
  bytes: Uint8Array,
  all: Section[],
  replaced: Map<Section, Uint8Array | null>,
  inserted: { id: number; body: Uint8Array }[],
): Uint8Array {
  // the exact size, so the result owns a buffer of its own length (some readers use `.buffer`)
  const framed = (body: Uint8Array) => 1 + encodeU32(body.length).length + body.length;
  let size = 8;
  for (const section of all) {
    const body = replaced.get(section);
    size += body === undefined ? section.end - section.headerStart : body === null ? 0 : framed(body);
  }
  for (const s of inserted) size += framed(s.body);
  const out = new ByteWriter(size);
  out.copy(bytes, 0, 8);
  const rank = (id: number) => SECTION_ORDER.indexOf(id);
  const pending = [...inserted].sort((a, b) => rank(a.id) - rank(b.id));
  let next = 0;
  const emit = (id: number, body: Uint8Array) => {
    out.byte(id);
    out.u32(body.length);
    out.copy(body, 0, body.length);
  };
  for (const section of all) {
    if (section.id !== 0) {
      while (next < pending.length && rank(pending[next]!.id) < rank(section.id)) emit(pending[next]!.id, pending[next++]!.body);
    }
    const body = replaced.get(section);
    if (body === undefined) out.copy(bytes, section.headerStart, section.end);
    else if (body !== null) emit(section.id, body);
  }
  while (next < pending.length) emit(pending[next]!.id, pending[next++]!.body);
  if (out.length !== size || out.buf.length !== size) throw new Error(`metered module is ${out.length} bytes, expected ${size}`);
  return out.buf;
}

// Edits found in a function body, applied in order when it is written out. Each is four numbers:
// position, kind, a, b.
const ENTRY_CHECK = 0; // the check at the function entry; a = region
const LOOP_OPEN = 1; // a loop whose slow path moves out of it: wrappers before the loop; [a, b) = its block type
const LOOP_CHECK = 2; // the check at a loop header; a = region, b = 1 when the loop's slow path moved out
const LOOP_CLOSE = 3; // after the end of a loop whose slow path moved out; a = region
const FUNC_INDEX = 4; // re-encode the function index in [pos, a) as b
const LABEL = 5; // re-encode the label index in [pos, a) as b (wrappers changed the depth)
const STORE = 6; // "local" counter: write the local back to the global before the instruction at pos
const LOAD = 7; // "local" counter: read the global into the local at pos (after a call, at a catch)

/** Locals V8 accepts in one function; a function at the limit keeps its count in the global. */
const MAX_LOCALS = 50_000;

interface Plan {
  fuelGlobal: number;
  refillFunction: number;
  counter: FuelCounter;
}

function meterCode(bytes: Uint8Array, section: Section, layout: Layout, plan: Plan): { body: Uint8Array; functions: number; checks: number } {
  const r = new Reader(bytes, section.start, section.end);
  const count = r.u32();
  if (count !== layout.funcTypes.length) {
    throw new WasmFormatError(`code section has ${count} bodies for ${layout.funcTypes.length} functions`);
  }
  // checks add about a third to code (more to small functions): room for half as much again
  const out = new ByteWriter(Math.ceil((section.end - section.start) * 1.5) + 1024);
  out.u32(count + (count > 0 ? 1 : 0));
  const m = new BodyMeter(bytes, layout, plan);
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.pos + size;
    if (end > section.end) throw new WasmFormatError(`code body #${i} runs past the code section`);
    const params = layout.typeParams[layout.funcTypes[i]!];
    if (params === undefined) throw new WasmFormatError(`function #${i} has an unknown type`);
    try {
      m.meter(r.pos, end, params, out);
    } catch (err) {
      if (err instanceof WasmFormatError) throw new WasmFormatError(`code body #${i}: ${err.message}`);
      throw err;
    }
    r.pos = end;
  }
  if (count > 0) out.append(refillBody(plan.fuelGlobal, layout.importedFuncs));
  return { body: out.bytes(), functions: count, checks: m.checks };
}

/**
 * The helper checks call when fuel runs out: refill(balance) shows the host the balance in the
 * global, asks it for the new fuel and traps when the answer is negative.
 */
function refillBody(fuelGlobal: number, outOfFuel: number): number[] {
  const code = [
    0x00, // no locals
    0x20, 0x00, 0x24, ...encodeU32(fuelGlobal), // (global.set F (local.get 0))
    0x10, ...encodeU32(outOfFuel), 0x22, 0x00, // (local.tee 0 (call out_of_fuel))
    0x41, 0x00, 0x48, 0x04, 0x40, 0x00, 0x0b, // (if (i32.lt_s .. 0) (then unreachable))
    0x20, 0x00, 0x0b, // (local.get 0)
  ];
  return [...encodeU32(code.length), ...code];
}

/**
 * Meters one function body at a time, reusing its buffers across bodies.
 *
 * A loop header's check must not call anything inside the loop: a call in a loop body makes V8
 * spill the loop's registers around it on every iteration (measured: a tight loop ran at 0.75×
 * with the call inline, 0.97× without). So a loop is wrapped, and its slow path runs outside it:
 *
 *   block bt                      ;; $exit
 *     loop bt                     ;; $resume
 *       block                     ;; $refill
 *         loop bt                 ;; the original loop
 *           CHARGE; br_if $refill (when the fuel went below zero)
 *           ...the loop's body...
 *         end
 *         br $exit                ;; leaving the loop normally
 *       end
 *       fuel = refill(fuel) + COST  ;; the header charges COST again on the way back in
 *       br $resume
 *     end
 *   end
 *
 * Branches from inside the loop to labels outside it are renumbered for the three wrappers.
 * Loops with parameters keep the slow path inline (their values would have to cross the wrappers).
 */
class BodyMeter {
  private events = new Int32Array(1024);
  private eventCount = 0;
  private costs = new Int32Array(64);
  // per open block, the function body's own at 0
  private frameRegion = new Int32Array(64); // fuel region its instructions are charged to
  private frameOut = new Int32Array(64); // its depth in the output (wrappers included)
  private frameLoop = new Int32Array(64); // 0: not a loop; 1: loop with its slow path moved out; 2: loop with it inline
  private frameInnerLoop = new Int32Array(64); // the innermost loop around it (itself included), 0 for none
  private frameCalls = new Int32Array(64); // a loop: whether a call runs in it
  private scratch = new ByteWriter(4096);
  private readonly fuel: number[];
  private readonly refill: number[];
  private readonly counter: FuelCounter;
  private readonly importedFuncs: number;
  private readonly typeParams: number[];
  checks = 0;

  constructor(
    private readonly bytes: Uint8Array,
    layout: Layout,
    plan: Plan,
  ) {
    this.fuel = encodeU32(plan.fuelGlobal);
    this.refill = encodeU32(plan.refillFunction);
    this.counter = plan.counter;
    this.importedFuncs = layout.importedFuncs;
    this.typeParams = layout.typeParams;
  }

  private event(pos: number, kind: number, a = 0, b = 0): void {
    let at = this.eventCount * 4;
    if (at + 4 > this.events.length) this.events = grow(this.events);
    const e = this.events;
    e[at++] = pos;
    e[at++] = kind;
    e[at++] = a;
    e[at] = b;
    this.eventCount++;
  }

  meter(start: number, end: number, params: number, out: ByteWriter): void {
    const bytes = this.bytes;
    const r = new Reader(bytes, start, end);
    const groups = r.u32();
    const groupsEnd = r.pos;
    let locals = params;
    for (let i = 0; i < groups; i++) {
      locals += r.u32();
      skipValueType(r);
    }
    const codeStart = r.pos;
    const tightLoop = this.scan(r, codeStart);
    const local = this.counter === "local" && tightLoop && locals < MAX_LOCALS ? encodeU32(locals) : undefined;

    const w = this.scratch;
    w.length = 0;
    if (local) {
      w.u32(groups + 1);
      w.copy(bytes, groupsEnd, codeStart);
      w.byte(0x01);
      w.byte(0x7f);
    } else {
      w.copy(bytes, start, codeStart);
    }
    let last = codeStart;
    const e = this.events;
    for (let i = 0; i < this.eventCount * 4; i += 4) {
      const pos = e[i]!;
      const kind = e[i + 1]!;
      const a = e[i + 2]!;
      if ((kind === STORE || kind === LOAD) && !local) continue;
      w.copy(bytes, last, pos);
      last = pos;
      switch (kind) {
        case ENTRY_CHECK: {
          const cost = this.costs[a]!;
          if (cost === 0 && !local) break; // nothing to charge, and no local to initialize
          this.writeCharge(w, cost, true, local);
          this.writeInlineRefill(w, local);
          this.checks++;
          break;
        }
        case LOOP_OPEN:
          // $exit and $resume take the loop's block type; $refill none
          w.byte(0x02);
          w.copy(bytes, a, e[i + 3]!);
          w.byte(0x03);
          w.copy(bytes, a, e[i + 3]!);
          w.byte(0x02);
          w.byte(0x40);
          break;
        case LOOP_CHECK:
          this.writeCharge(w, this.costs[a]!, false, local);
          if (e[i + 3] === 1) w.append(BR_IF_BELOW_ZERO_1);
          else this.writeInlineRefill(w, local);
          this.checks++;
          break;
        case LOOP_CLOSE:
          this.writeLoopClose(w, this.costs[a]!, local);
          break;
        case FUNC_INDEX:
        case LABEL:
          w.u32(e[i + 3]!);
          last = a;
          break;
        case STORE:
          w.byte(0x20);
          w.append(local!);
          w.byte(0x24);
          w.append(this.fuel);
          break;
        case LOAD:
          w.byte(0x23);
          w.append(this.fuel);
          w.byte(0x21);
          w.append(local!);
          break;
      }
    }
    w.copy(bytes, last, end);
    out.u32(w.length);
    out.copy(w.buf, 0, w.length);
  }

  /**
   * First pass over a body: records the edits and counts each region's instructions. Region 0 is
   * the function entry's; each loop opens one. Returns whether the body has a loop that makes no
   * calls: there a local counter pays for the write-backs around the function's calls.
   */
  private scan(r: Reader, codeStart: number): boolean {
    const bytes = this.bytes;
    const end = r.end;
    this.eventCount = 0;
    let regionCount = 1;
    let region = 0;
    let depth = 1; // open blocks, the body's own included
    let tightLoop = false;
    this.costs[0] = 0;
    this.frameRegion[0] = 0;
    this.frameOut[0] = 0;
    this.frameLoop[0] = 0;
    this.frameInnerLoop[0] = 0;
    this.event(codeStart, ENTRY_CHECK, 0);

    while (depth > 0) {
      const at = r.pos;
      if (at >= end) throw new WasmFormatError(`body ends inside a block (${depth} left open)`);
      const op = bytes[at]!;
      if (op === 0x0b) {
        // end
        depth--;
        if (depth === 0) {
          this.event(at, STORE); // falling off the body returns
        } else {
          const loop = this.frameLoop[depth]!;
          if (loop === 1) this.event(at + 1, LOOP_CLOSE, this.frameRegion[depth]);
          if (loop !== 0) {
            // a call in this loop runs in the loops around it too
            if (this.frameCalls[depth] === 0) tightLoop = true;
            else this.frameCalls[this.frameInnerLoop[depth - 1]!] = 1;
          }
          region = this.frameRegion[depth - 1]!;
        }
        r.pos = at + 1;
        continue;
      }
      this.costs[region]++;
      switch (op) {
        case 0x03: {
          // loop: its body is a new region, charged at its header
          r.pos = at + 1;
          const moveOut = !this.blockTypeHasParams(r);
          const typeStart = at + 1;
          skipBlockType(r);
          if (moveOut) this.event(at, LOOP_OPEN, typeStart, r.pos);
          if (regionCount === this.costs.length) this.costs = grow(this.costs);
          region = regionCount++;
          this.costs[region] = 0;
          this.event(r.pos, LOOP_CHECK, region, moveOut ? 1 : 0);
          this.push(depth++, region, moveOut ? 1 : 2);
          break;
        }
        case 0x02: // block
        case 0x04: // if
        case 0x06: // try
          r.pos = at + 1;
          skipBlockType(r);
          this.push(depth++, region, 0);
          break;
        case 0x1f: {
          // try_table: its catch clauses' labels count from outside it
          r.pos = at + 1;
          skipBlockType(r);
          const clauses = r.u32();
          for (let i = 0; i < clauses; i++) {
            const kind = r.byte();
            if (kind > 3) throw new WasmFormatError(`unknown try_table catch kind ${kind} at byte offset ${r.pos - 1}`);
            if (kind <= 1) r.skipLeb(); // tag
            this.label(r, depth - 1);
          }
          this.push(depth++, region, 0);
          break;
        }
        case 0x18: // delegate: closes a try like end; its label counts from outside the try
          depth--;
          if (depth === 0) throw new WasmFormatError(`delegate closes the function body at byte offset ${at}`);
          region = this.frameRegion[depth - 1]!;
          r.pos = at + 1;
          this.label(r, depth - 1);
          break;
        case 0x07: // catch
        case 0x19: // catch_all: the fuel callees spent before throwing is in the global
          skipInstruction(r);
          this.event(r.pos, LOAD);
          break;
        case 0x10: // call
          this.event(at, STORE);
          r.pos = at + 1;
          this.funcIndex(r);
          this.event(r.pos, LOAD);
          this.frameCalls[this.frameInnerLoop[depth - 1]!] = 1;
          break;
        case 0x12: // return_call
          this.event(at, STORE);
          r.pos = at + 1;
          this.funcIndex(r);
          break;
        case 0xd2: // ref.func
          r.pos = at + 1;
          this.funcIndex(r);
          break;
        case 0x11: // call_indirect
        case 0x14: // call_ref
          this.event(at, STORE);
          skipInstruction(r);
          this.event(r.pos, LOAD);
          this.frameCalls[this.frameInnerLoop[depth - 1]!] = 1;
          break;
        case 0x0f: // return
        case 0x13: // return_call_indirect
        case 0x15: // return_call_ref
        case 0x08: // throw
        case 0x0a: // throw_ref
          this.event(at, STORE);
          skipInstruction(r);
          break;
        case 0x09: // rethrow: its label names the catch's block
          this.event(at, STORE);
          r.pos = at + 1;
          this.label(r, depth - 1);
          break;
        case 0x0c: // br
        case 0x0d: // br_if
        case 0xd5: // br_on_null
        case 0xd6: // br_on_non_null
          r.pos = at + 1;
          if (this.peekLabel(r, depth - 1) === 0) this.event(at, STORE); // leaves the body: returns
          this.label(r, depth - 1);
          break;
        case 0x0e: {
          // br_table: first see whether a target leaves the body, then renumber each
          r.pos = at + 1;
          const targets = r.u32();
          const first = r.pos;
          for (let i = 0; i <= targets; i++) {
            if (depth - 1 - r.u32() === 0) {
              this.event(at, STORE);
              break;
            }
          }
          r.pos = first;
          for (let i = 0; i <= targets; i++) this.label(r, depth - 1);
          break;
        }
        case 0xfb: {
          // GC: br_on_cast and br_on_cast_fail carry a label
          const sub = bytes[at + 1];
          if (sub === 0x18 || sub === 0x19) {
            r.pos = at + 3; // prefix, sub-opcode, cast flags
            if (this.peekLabel(r, depth - 1) === 0) this.event(at, STORE);
            this.label(r, depth - 1);
            r.skipLeb();
            r.skipLeb();
          } else {
            skipInstruction(r);
          }
          break;
        }
        default:
          skipInstruction(r);
      }
    }
    if (r.pos !== end) throw new WasmFormatError(`instructions continue after the body's final end, at byte offset ${r.pos}`);
    return tightLoop;
  }

  /** Whether the block type at r.pos is a function type with parameters (r.pos is left as it was). */
  private blockTypeHasParams(r: Reader): boolean {
    const b = this.bytes[r.pos]!;
    if (b === 0x40 || b === 0x63 || b === 0x64 || (b & 0xc0) === 0x40) return false; // empty, a value type
    const at = r.pos;
    const type = r.u32(); // a type index (non-negative s33)
    r.pos = at;
    const params = this.typeParams[type];
    if (params === undefined) throw new WasmFormatError(`block type ${type} is not a type, at byte offset ${at}`);
    return params > 0;
  }

  private push(depth: number, region: number, loop: number): void {
    if (depth === this.frameRegion.length) {
      this.frameRegion = grow(this.frameRegion);
      this.frameOut = grow(this.frameOut);
      this.frameLoop = grow(this.frameLoop);
      this.frameInnerLoop = grow(this.frameInnerLoop);
      this.frameCalls = grow(this.frameCalls);
    }
    this.frameRegion[depth] = region;
    this.frameLoop[depth] = loop;
    this.frameInnerLoop[depth] = loop !== 0 ? depth : this.frameInnerLoop[depth - 1]!;
    this.frameCalls[depth] = 0;
    // a loop whose slow path moved out sits inside three wrappers
    this.frameOut[depth] = this.frameOut[depth - 1]! + (loop === 1 ? 4 : 1);
  }

  /** The block a label at r.pos targets, counted from the body's own (0); r.pos is left as it was. */
  private peekLabel(r: Reader, inner: number): number {
    const at = r.pos;
    const target = inner - r.u32();
    r.pos = at;
    return target;
  }

  /** Reads a label whose innermost block is `inner`, and renumbers it if wrappers sit in between. */
  private label(r: Reader, inner: number): void {
    const start = r.pos;
    const label = r.u32();
    const target = inner - label;
    if (target < 0) return; // not a block: V8 refuses the module anyway
    const renumbered = this.frameOut[inner]! - this.frameOut[target]!;
    if (renumbered !== label) this.event(start, LABEL, r.pos, renumbered);
  }

  private funcIndex(r: Reader): void {
    const start = r.pos;
    const index = r.u32();
    if (index >= this.importedFuncs) this.event(start, FUNC_INDEX, r.pos, index + 1);
  }

  /** Charges COST and leaves the new balance on the stack. */
  private writeCharge(w: ByteWriter, cost: number, entry: boolean, local: number[] | undefined): void {
    const fuel = this.fuel;
    if (local) {
      // (local.tee L (i32.sub (entry ? global.get F : local.get L) (i32.const COST)))
      w.byte(entry ? 0x23 : 0x20);
      w.append(entry ? fuel : local);
      w.byte(0x41);
      w.s32(cost);
      w.byte(0x6b);
      w.byte(0x22);
      w.append(local);
    } else {
      // (global.set F (i32.sub (global.get F) (i32.const COST))) (global.get F)
      w.byte(0x23);
      w.append(fuel);
      w.byte(0x41);
      w.s32(cost);
      w.byte(0x6b);
      w.byte(0x24);
      w.append(fuel);
      w.byte(0x23);
      w.append(fuel);
    }
  }

  /** (if (i32.lt_s BALANCE (i32.const 0)) (then fuel = refill(fuel))) */
  private writeInlineRefill(w: ByteWriter, local: number[] | undefined): void {
    w.append(IF_BELOW_ZERO);
    this.writeRefill(w, 0, local);
    w.byte(0x0b);
  }

  /** fuel = refill(fuel) + credit */
  private writeRefill(w: ByteWriter, credit: number, local: number[] | undefined): void {
    const slot = local ?? this.fuel;
    w.byte(local ? 0x20 : 0x23);
    w.append(slot);
    w.byte(0x10);
    w.append(this.refill);
    if (credit !== 0) {
      w.byte(0x41);
      w.s32(credit);
      w.byte(0x6a);
    }
    w.byte(local ? 0x21 : 0x24);
    w.append(slot);
  }

  /** After a wrapped loop's end: br $exit; end $refill; refill; br $resume; end $resume; end $exit. */
  private writeLoopClose(w: ByteWriter, cost: number, local: number[] | undefined): void {
    w.append(BR_2_END);
    this.writeRefill(w, cost, local);
    w.append(BR_0_END_END);
  }
}

const IF_BELOW_ZERO = [0x41, 0x00, 0x48, 0x04, 0x40]; // i32.const 0; i32.lt_s; if
const BR_IF_BELOW_ZERO_1 = [0x41, 0x00, 0x48, 0x0d, 0x01]; // i32.const 0; i32.lt_s; br_if 1
const BR_2_END = [0x0c, 0x02, 0x0b];
const BR_0_END_END = [0x0c, 0x00, 0x0b, 0x0b];

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}
