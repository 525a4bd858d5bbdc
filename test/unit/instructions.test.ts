// The code-section decoder: wabt (an independent encoder) writes every instruction of each
// proposal family, and the decoder must step over exactly as many instructions as were written.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { walkCode } from "../../src/wasm/instructions.js";
import { WasmFormatError } from "../../src/wasm/reader.js";
import { MODULES } from "../helpers.js";
import { committedModules, rawBodies, wat } from "./wasm-fixtures.js";

const words = (text: string) => text.trim().split(/\s+/);

const MVP_NUMERIC = words(`
  i32.eqz i32.eq i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u i32.ge_s i32.ge_u i64.eqz i64.eq i64.ne
  i64.lt_s i64.lt_u i64.gt_s i64.gt_u i64.le_s i64.le_u i64.ge_s i64.ge_u f32.eq f32.ne f32.lt f32.gt f32.le f32.ge
  f64.eq f64.ne f64.lt f64.gt f64.le f64.ge i32.clz i32.ctz i32.popcnt i32.add i32.sub i32.mul i32.div_s i32.div_u
  i32.rem_s i32.rem_u i32.and i32.or i32.xor i32.shl i32.shr_s i32.shr_u i32.rotl i32.rotr i64.clz i64.ctz i64.popcnt
  i64.add i64.sub i64.mul i64.div_s i64.div_u i64.rem_s i64.rem_u i64.and i64.or i64.xor i64.shl i64.shr_s i64.shr_u
  i64.rotl i64.rotr f32.abs f32.neg f32.ceil f32.floor f32.trunc f32.nearest f32.sqrt f32.add f32.sub f32.mul f32.div
  f32.min f32.max f32.copysign f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt f64.add f64.sub
  f64.mul f64.div f64.min f64.max f64.copysign i32.wrap_i64 i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s
  i32.trunc_f64_u i64.extend_i32_s i64.extend_i32_u i64.trunc_f32_s i64.trunc_f32_u i64.trunc_f64_s i64.trunc_f64_u
  f32.convert_i32_s f32.convert_i32_u f32.convert_i64_s f32.convert_i64_u f32.demote_f64 f64.convert_i32_s
  f64.convert_i32_u f64.convert_i64_s f64.convert_i64_u f64.promote_f32 i32.reinterpret_f32 i64.reinterpret_f64
  f32.reinterpret_i32 f64.reinterpret_i64 i32.extend8_s i32.extend16_s i64.extend8_s i64.extend16_s i64.extend32_s
  i32.trunc_sat_f32_s i32.trunc_sat_f32_u i32.trunc_sat_f64_s i32.trunc_sat_f64_u i64.trunc_sat_f32_s
  i64.trunc_sat_f32_u i64.trunc_sat_f64_s i64.trunc_sat_f64_u
`);

/** SIMD and relaxed SIMD instructions without immediates. */
const SIMD_PLAIN = words(`
  i8x16.swizzle i8x16.splat i16x8.splat i32x4.splat i64x2.splat f32x4.splat f64x2.splat i8x16.eq i8x16.ne i8x16.lt_s
  i8x16.lt_u i8x16.gt_s i8x16.gt_u i8x16.le_s i8x16.le_u i8x16.ge_s i8x16.ge_u i16x8.eq i16x8.ne i16x8.lt_s i16x8.lt_u
  i16x8.gt_s i16x8.gt_u i16x8.le_s i16x8.le_u i16x8.ge_s i16x8.ge_u i32x4.eq i32x4.ne i32x4.lt_s i32x4.lt_u i32x4.gt_s
  i32x4.gt_u i32x4.le_s i32x4.le_u i32x4.ge_s i32x4.ge_u f32x4.eq f32x4.ne f32x4.lt f32x4.gt f32x4.le f32x4.ge f64x2.eq
  f64x2.ne f64x2.lt f64x2.gt f64x2.le f64x2.ge v128.not v128.and v128.andnot v128.or v128.xor v128.bitselect
  v128.any_true f32x4.demote_f64x2_zero f64x2.promote_low_f32x4 i8x16.abs i8x16.neg i8x16.popcnt i8x16.all_true
  i8x16.bitmask i8x16.narrow_i16x8_s i8x16.narrow_i16x8_u i8x16.shl i8x16.shr_s i8x16.shr_u i8x16.add i8x16.add_sat_s
  i8x16.add_sat_u i8x16.sub i8x16.sub_sat_s i8x16.sub_sat_u i8x16.min_s i8x16.min_u i8x16.max_s i8x16.max_u
  i8x16.avgr_u i16x8.extadd_pairwise_i8x16_s i16x8.extadd_pairwise_i8x16_u i32x4.extadd_pairwise_i16x8_s
  i32x4.extadd_pairwise_i16x8_u i16x8.abs i16x8.neg i16x8.q15mulr_sat_s i16x8.all_true i16x8.bitmask
  i16x8.narrow_i32x4_s i16x8.narrow_i32x4_u i16x8.extend_low_i8x16_s i16x8.extend_high_i8x16_s
  i16x8.extend_low_i8x16_u i16x8.extend_high_i8x16_u i16x8.shl i16x8.shr_s i16x8.shr_u i16x8.add i16x8.add_sat_s
  i16x8.add_sat_u i16x8.sub i16x8.sub_sat_s i16x8.sub_sat_u i16x8.mul i16x8.min_s i16x8.min_u i16x8.max_s i16x8.max_u
  i16x8.avgr_u i16x8.extmul_low_i8x16_s i16x8.extmul_high_i8x16_s i16x8.extmul_low_i8x16_u i16x8.extmul_high_i8x16_u
  i32x4.abs i32x4.neg i32x4.all_true i32x4.bitmask i32x4.extend_low_i16x8_s i32x4.extend_high_i16x8_s
  i32x4.extend_low_i16x8_u i32x4.extend_high_i16x8_u i32x4.shl i32x4.shr_s i32x4.shr_u i32x4.add i32x4.sub i32x4.mul
  i32x4.min_s i32x4.min_u i32x4.max_s i32x4.max_u i32x4.dot_i16x8_s i32x4.extmul_low_i16x8_s i32x4.extmul_high_i16x8_s
  i32x4.extmul_low_i16x8_u i32x4.extmul_high_i16x8_u i64x2.abs i64x2.neg i64x2.all_true i64x2.bitmask
  i64x2.extend_low_i32x4_s i64x2.extend_high_i32x4_s i64x2.extend_low_i32x4_u i64x2.extend_high_i32x4_u i64x2.shl
  i64x2.shr_s i64x2.shr_u i64x2.add i64x2.sub i64x2.mul i64x2.eq i64x2.ne i64x2.lt_s i64x2.gt_s i64x2.le_s i64x2.ge_s
  i64x2.extmul_low_i32x4_s i64x2.extmul_high_i32x4_s i64x2.extmul_low_i32x4_u i64x2.extmul_high_i32x4_u f32x4.ceil
  f32x4.floor f32x4.trunc f32x4.nearest f64x2.ceil f64x2.floor f64x2.trunc f64x2.nearest f32x4.abs f32x4.neg
  f32x4.sqrt f32x4.add f32x4.sub f32x4.mul f32x4.div f32x4.min f32x4.max f32x4.pmin f32x4.pmax f64x2.abs f64x2.neg
  f64x2.sqrt f64x2.add f64x2.sub f64x2.mul f64x2.div f64x2.min f64x2.max f64x2.pmin f64x2.pmax i32x4.trunc_sat_f32x4_s
  i32x4.trunc_sat_f32x4_u f32x4.convert_i32x4_s f32x4.convert_i32x4_u i32x4.trunc_sat_f64x2_s_zero
  i32x4.trunc_sat_f64x2_u_zero f64x2.convert_low_i32x4_s f64x2.convert_low_i32x4_u
  i8x16.relaxed_swizzle i32x4.relaxed_trunc_f32x4_s i32x4.relaxed_trunc_f32x4_u i32x4.relaxed_trunc_f64x2_s_zero
  i32x4.relaxed_trunc_f64x2_u_zero f32x4.relaxed_madd f32x4.relaxed_nmadd f64x2.relaxed_madd f64x2.relaxed_nmadd
  i8x16.relaxed_laneselect i16x8.relaxed_laneselect i32x4.relaxed_laneselect i64x2.relaxed_laneselect
  f32x4.relaxed_min f32x4.relaxed_max f64x2.relaxed_min f64x2.relaxed_max i16x8.relaxed_q15mulr_s
  i16x8.relaxed_dot_i8x16_i7x16_s i32x4.relaxed_dot_i8x16_i7x16_add_s
`);

const SIMD_MEMORY = words(`
  v128.load v128.load8x8_s v128.load8x8_u v128.load16x4_s v128.load16x4_u v128.load32x2_s v128.load32x2_u
  v128.load8_splat v128.load16_splat v128.load32_splat v128.load64_splat v128.store v128.load32_zero v128.load64_zero
`);
const SIMD_LANE = words(`
  i8x16.extract_lane_s i8x16.extract_lane_u i8x16.replace_lane i16x8.extract_lane_s i16x8.extract_lane_u
  i16x8.replace_lane i32x4.extract_lane i32x4.replace_lane i64x2.extract_lane i64x2.replace_lane f32x4.extract_lane
  f32x4.replace_lane f64x2.extract_lane f64x2.replace_lane
`);
const SIMD_MEMORY_LANE = words(`
  v128.load8_lane v128.load16_lane v128.load32_lane v128.load64_lane v128.store8_lane v128.store16_lane
  v128.store32_lane v128.store64_lane
`);

const MVP_MEMORY = words(`
  i32.load i64.load f32.load f64.load i32.load8_s i32.load8_u i32.load16_s i32.load16_u i64.load8_s i64.load8_u
  i64.load16_s i64.load16_u i64.load32_s i64.load32_u i32.store i64.store f32.store f64.store i32.store8 i32.store16
  i64.store8 i64.store16 i64.store32
`);

const ATOMIC_MEMORY = words(`
  memory.atomic.notify memory.atomic.wait32 memory.atomic.wait64 i32.atomic.load i64.atomic.load i32.atomic.load8_u
  i32.atomic.load16_u i64.atomic.load8_u i64.atomic.load16_u i64.atomic.load32_u i32.atomic.store i64.atomic.store
  i32.atomic.store8 i32.atomic.store16 i64.atomic.store8 i64.atomic.store16 i64.atomic.store32
  i32.atomic.rmw.add i64.atomic.rmw.add i32.atomic.rmw8.add_u i32.atomic.rmw16.add_u i64.atomic.rmw8.add_u
  i64.atomic.rmw16.add_u i64.atomic.rmw32.add_u i32.atomic.rmw.sub i64.atomic.rmw.sub i32.atomic.rmw8.sub_u
  i32.atomic.rmw16.sub_u i64.atomic.rmw8.sub_u i64.atomic.rmw16.sub_u i64.atomic.rmw32.sub_u i32.atomic.rmw.and
  i64.atomic.rmw.and i32.atomic.rmw8.and_u i32.atomic.rmw16.and_u i64.atomic.rmw8.and_u i64.atomic.rmw16.and_u
  i64.atomic.rmw32.and_u i32.atomic.rmw.or i64.atomic.rmw.or i32.atomic.rmw8.or_u i32.atomic.rmw16.or_u
  i64.atomic.rmw8.or_u i64.atomic.rmw16.or_u i64.atomic.rmw32.or_u i32.atomic.rmw.xor i64.atomic.rmw.xor
  i32.atomic.rmw8.xor_u i32.atomic.rmw16.xor_u i64.atomic.rmw8.xor_u i64.atomic.rmw16.xor_u i64.atomic.rmw32.xor_u
  i32.atomic.rmw.xchg i64.atomic.rmw.xchg i32.atomic.rmw8.xchg_u i32.atomic.rmw16.xchg_u i64.atomic.rmw8.xchg_u
  i64.atomic.rmw16.xchg_u i64.atomic.rmw32.xchg_u i32.atomic.rmw.cmpxchg i64.atomic.rmw.cmpxchg
  i32.atomic.rmw8.cmpxchg_u i32.atomic.rmw16.cmpxchg_u i64.atomic.rmw8.cmpxchg_u i64.atomic.rmw16.cmpxchg_u
  i64.atomic.rmw32.cmpxchg_u
`);

const SHUFFLE = `i8x16.shuffle ${Array.from({ length: 16 }, (_, i) => 15 - i).join(" ")}`;

/** One family per proposal: each entry is one instruction, in flat text (types are not checked). */
const FAMILIES: Record<string, string[]> = {
  "MVP control, calls and variables": [
    "nop", "block", "loop (result i32)", "i32.const 1", "br_if 0", "br 1", "end", "end",
    "block $a", "block $b", "i32.const 0", "br_table $a $b $a $b", "end", "end",
    "i32.const 0", "if", "nop", "else", "unreachable", "end",
    "block (type $pair)", "drop", "drop", "end", "block (param i32) (result i64)", "drop", "i64.const 0", "end",
    "call $f", "i32.const 0", "call_indirect (type $pair)", "return",
    "local.get 0", "local.set 1", "local.tee 1", "global.get 0", "global.set 0", "drop", "select",
  ],
  "MVP memory and constants": [
    ...MVP_MEMORY.map((op, i) => `${op} offset=${i * 1000} align=1`),
    "memory.size", "memory.grow",
    "i32.const -1", "i32.const 2147483647", "i32.const -2147483648",
    "i64.const 9223372036854775807", "i64.const -9223372036854775808",
    "f32.const nan:0x200000", "f32.const -0x1p-149", "f64.const inf", "f64.const 0x1.fffffffffffffp+1023",
  ],
  "MVP numeric, sign extension and saturating truncation": MVP_NUMERIC,
  "bulk memory and reference types": [
    "memory.init 0", "data.drop 0", "memory.copy", "memory.fill",
    "table.init 0", "elem.drop 0", "table.copy", "table.grow 0", "table.size 0", "table.fill 0",
    "table.get 0", "table.set 0", "ref.null func", "ref.null extern", "ref.is_null", "ref.func $f",
    "select (result i32)", "select (result funcref)",
  ],
  "SIMD and relaxed SIMD": [
    ...SIMD_PLAIN,
    ...SIMD_MEMORY.map((op) => `${op} offset=65536 align=1`),
    ...SIMD_LANE.map((op) => `${op} 1`),
    ...SIMD_MEMORY_LANE.map((op) => `${op} offset=3 align=1 1`),
    "v128.const i32x4 1 -1 0x7fffffff 0", "v128.const f64x2 nan inf", SHUFFLE,
  ],
  threads: [...ATOMIC_MEMORY.map((op) => `${op} offset=8`), "atomic.fence"],
  "exception handling (legacy)": [
    "try (result i32)", "throw $e", "catch $e", "rethrow 0", "catch_all", "i32.const 1", "end", "drop",
    "try", "nop", "delegate 0",
    "try", "try", "throw $e", "delegate 1", "catch_all", "end",
  ],
  "exception handling (try_table, exnref)": [
    "block $h (result exnref)",
    "try_table (catch $e 0) (catch_ref $e $h) (catch_all 0) (catch_all_ref $h)", "end",
    "unreachable", "end", "throw_ref",
  ],
  "tail calls": ["return_call $f", "i32.const 0", "return_call_indirect (type $pair)"],
  "multi-memory": [
    "i32.load 1 offset=5", "i64.store 1", "v128.load 1", "v128.load8_lane 1 offset=1 3",
    "i32.atomic.load 1", "memory.size 1", "memory.grow 1", "memory.copy 1 0", "memory.fill 1", "memory.init 1 0",
  ],
};

/** Types, tables, memories, a tag and segments the flat bodies refer to. */
function familyModule(body: string[]): string {
  return `(module
    (type $pair (func (param i32) (result i32 i32)))
    (memory 1) (memory 1) (table 1 funcref) (global (mut i32) (i32.const 0)) (tag $e)
    (data "x") (elem func $f)
    (func $f (param i32) (local i32)
      ${body.join("\n      ")}))`;
}

describe("code-section decoder", () => {
  for (const [family, body] of Object.entries(FAMILIES)) {
    it(`steps over every ${family} instruction wabt writes`, () => {
      const stats = walkCode(wat(familyModule(body)));
      expect(stats).toEqual({ functions: 1, instructions: body.length + 1 });
    });
  }

  it("steps over memory64 offsets beyond 32 bits", () => {
    const body = ["i64.const 0", "i32.load offset=4294967296", "i64.load offset=18446744073709551615", "v128.store offset=1099511627776"];
    const stats = walkCode(wat(`(module (memory i64 1) (func ${body.join(" ")}))`));
    expect(stats.instructions).toBe(body.length + 1);
  });

  it("steps over block types that are multi-byte type indices", () => {
    const types = Array.from({ length: 200 }, (_, i) => `(type $t${i} (func (param ${"i32 ".repeat(i % 3)})))`).join("\n");
    const stats = walkCode(wat(`(module ${types} (func block (type $t150) end loop (type $t199) end))`));
    expect(stats.instructions).toBe(5);
  });

  it("steps over typed function reference, GC and wide-arithmetic instructions wabt cannot write", () => {
    const body = [
      [0x01, 0x01, 0x63, 0x00], // locals: one (ref null 0)
      [0xd0, 0x00], // ref.null (type 0)
      [0xd4], // ref.as_non_null
      [0x14, 0x00], // call_ref 0
      [0x02, 0x64, 0x00], // block (result (ref 0))
      [0xd5, 0x00], // br_on_null 0
      [0xd6, 0x00], // br_on_non_null 0
      [0x0b], // end
      [0x1c, 0x01, 0x63, 0x00], // select (result (ref null 0))
      [0xd3], // ref.eq
      [0xfb, 0x00, 0x00], // struct.new 0
      [0xfb, 0x01, 0x00], // struct.new_default 0
      [0xfb, 0x02, 0x00, 0x01], // struct.get 0 1
      [0xfb, 0x05, 0x00, 0x01], // struct.set 0 1
      [0xfb, 0x08, 0x00, 0x03], // array.new_fixed 0 3
      [0xfb, 0x09, 0x00, 0x00], // array.new_data 0 0
      [0xfb, 0x0f], // array.len
      [0xfb, 0x11, 0x00, 0x00], // array.copy 0 0
      [0xfb, 0x14, 0x6e], // ref.test any
      [0xfb, 0x17, 0x80, 0x01], // ref.cast null (type 128)
      [0xfb, 0x18, 0x03, 0x00, 0x6e, 0x6b], // br_on_cast 0 anyref structref
      [0xfb, 0x19, 0x00, 0x00, 0x6e, 0x6c], // br_on_cast_fail
      [0xfb, 0x1a], // any.convert_extern
      [0xfb, 0x1c], // ref.i31
      [0xfb, 0x1e], // i31.get_u
      [0xfc, 0x13], // i64.add128
      [0xfc, 0x88, 0x00, 0x00, 0x00], // memory.init 0 0, with a padded sub-opcode
      [0x15, 0x00], // return_call_ref 0
      [0x0b],
    ];
    const stats = walkCode(rawBodies([body.flat()]));
    expect(stats.instructions).toBe(body.length - 1);
  });

  it("names an unknown opcode and its byte offset", () => {
    const bytes = rawBodies([[0x00, 0x01, 0x27, 0x0b]]);
    const offset = bytes.length - 2; // the 0x27
    expect(() => walkCode(bytes)).toThrow(new WasmFormatError(`code body #0: unknown instruction 0x27 at byte offset ${offset}`));
  });

  it("names unknown prefixed opcodes with their family", () => {
    expect(() => walkCode(rawBodies([[0x00, 0xfb, 0x80, 0x01, 0x0b]]))).toThrow(/unknown GC instruction 0xfb 0x80 at byte offset \d+/);
    expect(() => walkCode(rawBodies([[0x00, 0xfd, 0x9a, 0x01, 0x0b]]))).toThrow(/unknown SIMD instruction 0xfd 0x9a/);
    expect(() => walkCode(rawBodies([[0x00, 0xfe, 0x04, 0x0b]]))).toThrow(/unknown threads instruction 0xfe 0x04/);
    expect(() => walkCode(rawBodies([[0x00, 0xfc, 0x12, 0x0b]]))).toThrow(/unknown .* instruction 0xfc 0x12/);
  });

  it("refuses bodies whose blocks do not close where the body ends", () => {
    expect(() => walkCode(rawBodies([[0x00, 0x02, 0x40, 0x0b]]))).toThrow(/code body #0: body ends inside a block/);
    expect(() => walkCode(rawBodies([[0x00, 0x0b, 0x01]]))).toThrow(/continue after the body's final end/);
    expect(() => walkCode(rawBodies([[0x00, 0x41]]))).toThrow(/code body #0: unexpected end/);
  });

  for (const file of committedModules()) {
    it(`steps over every instruction of test-modules/${file}`, () => {
      const bytes = new Uint8Array(readFileSync(join(MODULES, file)));
      const stats = walkCode(bytes);
      expect(stats.functions).toBeGreaterThan(0);
      expect(stats.instructions).toBeGreaterThan(stats.functions);
    });
  }
});
