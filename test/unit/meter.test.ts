// Fuel metering: metered modules validate, compute what the originals compute, spend fuel as the
// cost model says, and stop when the host says so.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FUEL_EXPORT, METER_FUNCTION, METER_NAMESPACE, MeterError, meterModule, type FuelCounter } from "../../src/wasm/meter.js";
import { readWasmInfo } from "../../src/wasm/reader.js";
import { walkCode } from "../../src/wasm/instructions.js";
import { MODULES } from "../helpers.js";
import { committedModules, rawBodies, validateWithWabt, wat } from "./wasm-fixtures.js";
import { Stop, instantiateMetered, instantiatePlain, outcome, type Imports } from "./metered.js";

const COUNTERS: FuelCounter[] = ["local", "global"];

interface Case {
  wat: string;
  /** Calls made in order on the same instance; each returns something to compare. */
  calls: ((e: WebAssembly.Exports) => unknown)[];
  imports?: () => Imports;
}

type Fn = (...args: unknown[]) => unknown;
const fn = (e: WebAssembly.Exports, name: string) => e[name] as Fn;
const bytesOf = (e: WebAssembly.Exports, name = "memory", length = 64) =>
  Array.from(new Uint8Array((e[name] as WebAssembly.Memory).buffer, 0, length));

const CASES: Record<string, Case> = {
  "plain arithmetic": {
    wat: `(module
      (func (export "calc") (param $a i32) (param $b i32) (result i32)
        (i32.add (i32.mul (local.get $a) (i32.const 31)) (i32.div_s (local.get $b) (i32.const 7))))
      (func (export "wide") (param $x i64) (result i64)
        (i64.rotl (i64.mul (local.get $x) (i64.const 0x9e3779b97f4a7c15)) (i64.const 17)))
      (func (export "float") (param $x f64) (result f64)
        (f64.sqrt (f64.add (f64.mul (local.get $x) (local.get $x)) (f64.const 1))))
      (func (export "divide") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1))))`,
    calls: [
      (e) => fn(e, "calc")(3, 100),
      (e) => fn(e, "calc")(-5, 2 ** 31 - 1),
      (e) => fn(e, "wide")(12345n),
      (e) => fn(e, "float")(2.5),
      (e) => fn(e, "divide")(7, 2),
      (e) => fn(e, "divide")(1, 0),
    ],
  },
  loops: {
    wat: `(module
      (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
        (block $done (loop $next
          (br_if $done (i32.gt_u (local.get $i) (local.get $n)))
          (local.set $s (i32.add (local.get $s) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (local.get $s))
      (func (export "table") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $s i32)
        (loop $rows
          (local.set $j (i32.const 0))
          (loop $cols
            (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $j))))
            (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))
          (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (local.get $s))
      (func (export "countdown") (param i32) (result i32)
        ;; a loop with a parameter: the counter travels on the stack
        (local.get 0)
        (loop $l (param i32) (result i32)
          (i32.sub (i32.const 1))
          (local.tee 0)
          (br_if $l (local.get 0)))
        (drop)
        (i32.const 99)))`,
    calls: [(e) => fn(e, "sum")(1000), (e) => fn(e, "sum")(0), (e) => fn(e, "table")(40), (e) => fn(e, "countdown")(500)],
  },
  recursion: {
    wat: `(module
      (func $fib (export "fib") (param $n i32) (result i32)
        (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
          (then (local.get $n))
          (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
      (func $ack (export "ack") (param $m i32) (param $n i32) (result i32)
        (if (result i32) (i32.eqz (local.get $m))
          (then (i32.add (local.get $n) (i32.const 1)))
          (else (if (result i32) (i32.eqz (local.get $n))
            (then (call $ack (i32.sub (local.get $m) (i32.const 1)) (i32.const 1)))
            (else (call $ack (i32.sub (local.get $m) (i32.const 1)) (call $ack (local.get $m) (i32.sub (local.get $n) (i32.const 1)))))))))
      (func $even (export "even") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1)) (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
      (func $odd (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0)) (else (call $even (i32.sub (local.get 0) (i32.const 1)))))))`,
    calls: [(e) => fn(e, "fib")(20), (e) => fn(e, "ack")(2, 3), (e) => fn(e, "even")(1001), (e) => fn(e, "even")(5000)],
  },
  "br_table": {
    wat: `(module
      (func (export "pick") (param $n i32) (result i32)
        (block $d (block $c (block $b (block $a
          (br_table $a $b $c $a $d (local.get $n)))
          (return (i32.const 10)))
          (return (i32.const 20)))
          (return (i32.const 30)))
        (i32.const -1))
      (func (export "leave") (param $n i32) (result i32)
        ;; a br_table whose targets include the function body itself
        (i32.add (block $x (result i32) (br_table $x 1 (i32.const 5) (local.get $n))) (i32.const 1))))`,
    calls: [0, 1, 2, 3, 4, 9, -1].map((n) => (e: WebAssembly.Exports) => fn(e, "pick")(n)).concat([
      (e) => fn(e, "leave")(0),
      (e) => fn(e, "leave")(1),
    ]),
  },
  "multi-value blocks and functions": {
    wat: `(module
      (type $two (func (param i32 i32) (result i32 i32)))
      (func $swap (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
      (func (export "divmod") (param $a i32) (param $b i32) (result i32 i32)
        (local.get $a) (local.get $b)
        (block (type $two)
          (local.set $b) (local.set $a)
          (i32.div_u (local.get $a) (local.get $b))
          (i32.rem_u (local.get $a) (local.get $b))))
      (func (export "fold") (param $n i32) (result i32)
        (i32.const 0) (i32.const 1)
        (loop $l (param i32 i32) (result i32 i32)
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (call $step)
          (br_if $l (local.get $n)))
        (i32.add))
      (func $step (param $a i32) (param $b i32) (result i32 i32) (local.get $b) (i32.add (local.get $a) (local.get $b))))`,
    calls: [(e) => fn(e, "swap")(7, 9n), (e) => fn(e, "divmod")(47, 5), (e) => fn(e, "fold")(30)],
  },
  SIMD: {
    wat: `(module
      (memory (export "memory") 1)
      (func (export "dot") (param $a i32) (param $b i32) (result i32) (local $v v128)
        (local.set $v (i32x4.mul (i32x4.splat (local.get $a)) (v128.const i32x4 1 2 3 4)))
        (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $b))))
        (local.set $v (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $v) (local.get $v)))
        (v128.store offset=16 (i32.const 0) (local.get $v))
        (i32.add (i32x4.extract_lane 0 (local.get $v))
          (i32.add (i32x4.extract_lane 3 (local.get $v)) (i32.load offset=20 (i32.const 0)))))
      (func (export "bytes") (result i32) (local $i i32) (local $acc v128)
        (loop $l
          (local.set $acc (i8x16.add (local.get $acc) (i8x16.splat (local.get $i))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 300))))
        (i8x16.extract_lane_u 5 (local.get $acc))))`,
    calls: [(e) => fn(e, "dot")(3, -7), (e) => fn(e, "bytes")(), (e) => bytesOf(e)],
  },
  "bulk memory": {
    wat: `(module
      (memory (export "memory") 1)
      (data $hello "hello, metered world")
      (func (export "copy") (result i32)
        (memory.init $hello (i32.const 8) (i32.const 0) (i32.const 20))
        (memory.copy (i32.const 32) (i32.const 8) (i32.const 12))
        (memory.fill (i32.const 40) (i32.const 0x2a) (i32.const 6))
        (i32.load8_u (i32.const 33)))
      (func (export "drop") (data.drop $hello))
      (func (export "again") (memory.init $hello (i32.const 0) (i32.const 0) (i32.const 1))))`,
    calls: [(e) => fn(e, "copy")(), (e) => bytesOf(e), (e) => fn(e, "drop")(), (e) => fn(e, "again")()],
  },
  "reference types: funcref tables, call_indirect, ref.func in segments and globals": {
    wat: `(module
      (type $r (func (result i32)))
      (table $t (export "table") 8 funcref)
      (table $u 2 externref)
      (func $one (result i32) (i32.const 1))
      (func $two (result i32) (i32.const 2))
      (func $three (result i32) (i32.const 3))
      (func $four (result i32) (i32.const 4))
      (func $five (result i32) (i32.const 5))
      (global $g funcref (ref.func $three))
      (global $h (mut funcref) (ref.null func))
      (elem (table $t) (i32.const 0) func $one $two)
      (elem (table $t) (i32.const 2) funcref (ref.func $four) (ref.null func) (ref.func $five))
      (elem $later func $two $one)
      (elem $exprs funcref (ref.func $five) (ref.func $four))
      (elem declare func $three $four)
      (func (export "call") (param i32) (result i32) (call_indirect $t (type $r) (local.get 0)))
      (func (export "setup")
        (table.set $t (i32.const 5) (global.get $g))
        (global.set $h (ref.func $four))
        (table.set $t (i32.const 6) (global.get $h))
        (table.init $t $later (i32.const 3) (i32.const 0) (i32.const 1))
        (elem.drop $later))
      (func (export "grow") (result i32) (table.grow $t (ref.func $three) (i32.const 2)))
      (func (export "late") (table.init $t $exprs (i32.const 7) (i32.const 1) (i32.const 1)))
      (func (export "size") (result i32) (i32.add (table.size $t) (table.size $u)))
      (func (export "isnull") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0)))))`,
    calls: [
      ...[0, 1, 2, 3, 4].map((i) => (e: WebAssembly.Exports) => fn(e, "call")(i)),
      (e) => fn(e, "setup")(),
      ...[3, 5, 6].map((i) => (e: WebAssembly.Exports) => fn(e, "call")(i)),
      (e) => fn(e, "grow")(),
      (e) => fn(e, "late")(),
      (e) => fn(e, "call")(7),
      (e) => fn(e, "call")(9),
      (e) => fn(e, "size")(),
      (e) => fn(e, "isnull")(3),
      // functions read from the exported table are the right ones
      (e) => [0, 1, 2, 5, 6, 7, 8].map((i) => ((e.table as WebAssembly.Table).get(i) as Fn)()),
    ],
  },
  "exceptions (legacy)": {
    wat: `(module
      (tag $oops (param i32))
      (func $thrower (param i32) (if (i32.gt_u (local.get 0) (i32.const 10)) (then (throw $oops (local.get 0)))))
      (func (export "catch") (param i32) (result i32)
        (try (result i32)
          (do (call $thrower (local.get 0)) (i32.const 0))
          (catch $oops (i32.add (i32.const 1000)))))
      (func (export "rethrow") (param i32) (result i32)
        (try (result i32)
          (do
            (try (result i32)
              (do (call $thrower (local.get 0)) (i32.const 1))
              (catch $oops (drop) (rethrow 0))))
          (catch_all (i32.const -1))))
      (func (export "delegate") (param i32) (result i32)
        (try (result i32)
          (do
            (try (do (call $thrower (local.get 0))) (delegate 0))
            (i32.const 2))
          (catch $oops)))
      (func (export "loop") (result i32) (local $i i32) (local $caught i32)
        (loop $l
          (try (do (call $thrower (local.get $i))) (catch $oops (drop) (local.set $caught (i32.add (local.get $caught) (i32.const 1)))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 50))))
        (local.get $caught))
      (func (export "delegateOut") (result i32) (local $i i32)
        ;; from inside a loop, delegate to a try outside it: the label crosses the loop's wrappers
        (try (result i32)
          (do
            (loop $l
              (try (do (call $thrower (local.get $i))) (delegate 1))
              (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20))))
            (i32.const -5))
          (catch $oops)))
      (func (export "rethrowOut") (param i32) (result i32) (local $i i32)
        ;; rethrow from a loop inside the catch clause: its label names the try around the loop
        (try (result i32)
          (do
            (try (do (throw $oops (local.get 0)))
              (catch $oops
                (drop)
                (loop $l
                  (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 5)))
                  (rethrow 1))))
            (i32.const 0))
          (catch $oops (i32.add (local.get $i))))))`,
    calls: [
      (e) => fn(e, "catch")(3),
      (e) => fn(e, "catch")(30),
      (e) => fn(e, "rethrow")(5),
      (e) => fn(e, "rethrow")(50),
      (e) => fn(e, "delegate")(1),
      (e) => fn(e, "delegate")(11),
      (e) => fn(e, "loop")(),
      (e) => fn(e, "delegateOut")(),
      (e) => fn(e, "rethrowOut")(40),
    ],
  },
  "tail calls": {
    wat: `(module
      (type $t (func (param i64 i64) (result i64)))
      (table 1 funcref) (elem (i32.const 0) $viaTable)
      (func $count (export "count") (param $n i64) (param $acc i64) (result i64)
        (if (result i64) (i64.eqz (local.get $n))
          (then (local.get $acc))
          (else (return_call $count (i64.sub (local.get $n) (i64.const 1)) (i64.add (local.get $acc) (local.get $n))))))
      (func $viaTable (param $n i64) (param $acc i64) (result i64)
        (if (result i64) (i64.eqz (local.get $n))
          (then (local.get $acc))
          (else (return_call_indirect (type $t) (i64.sub (local.get $n) (i64.const 1)) (i64.add (local.get $acc) (i64.const 2)) (i32.const 0)))))
      (func (export "indirect") (param i64) (result i64) (call $viaTable (local.get 0) (i64.const 0))))`,
    calls: [(e) => fn(e, "count")(1_000_000n, 0n), (e) => fn(e, "indirect")(200_000n)],
  },
  "a start function": {
    wat: `(module
      (memory (export "memory") 1)
      (global $ready (mut i32) (i32.const 0))
      (func $init (local $i i32)
        (loop $l
          (i32.store8 (local.get $i) (i32.add (local.get $i) (i32.const 65)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 26))))
        (global.set $ready (i32.const 7)))
      (start $init)
      (func (export "ready") (result i32) (global.get $ready)))`,
    calls: [(e) => fn(e, "ready")(), (e) => bytesOf(e, "memory", 30)],
  },
  "imported functions (defined function indices move)": {
    wat: `(module
      (import "env" "add" (func $add (param i32 i32) (result i32)))
      (import "env" "log" (func $log (param i32)))
      (import "env" "seven" (func $seven (result i32)))
      (type $r (func (result i32)))
      (table (export "table") 4 funcref)
      (elem (i32.const 0) $seven $local $seven)
      (elem declare func $add)
      (global $count (mut i32) (i32.const 0))
      (func $local (result i32) (i32.const 11))
      (func $init (call $log (i32.const -1)) (global.set $count (call $seven)))
      (start $init)
      (func (export "sum") (param i32) (result i32) (local $i i32) (local $s i32)
        (loop $l
          (local.set $s (call $add (local.get $s) (local.get $i)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get 0))))
        (call $log (local.get $s))
        (local.get $s))
      (func (export "viaTable") (param i32) (result i32) (call_indirect (type $r) (local.get 0)))
      (func (export "count") (result i32) (global.get $count))
      (func (export "isAdd") (result i32) (ref.is_null (ref.func $add)))
      (export "reexported" (func $add))
      (export "local" (func $local)))`,
    imports: () => {
      const logged: number[] = [];
      return {
        env: {
          add: (a: number, b: number) => (a + b) | 0,
          log: (v: number) => void logged.push(v),
          seven: () => 7,
        },
      };
    },
    calls: [
      (e) => fn(e, "sum")(100),
      (e) => [0, 1, 2].map((i) => fn(e, "viaTable")(i)),
      (e) => fn(e, "count")(),
      (e) => fn(e, "isAdd")(),
      (e) => fn(e, "reexported")(20, 22),
      (e) => fn(e, "local")(),
      (e) => [0, 1, 2].map((i) => ((e.table as WebAssembly.Table).get(i) as Fn)()),
    ],
  },
  "exported memory and table grown from outside": {
    wat: `(module
      (memory (export "memory") 1 4)
      (table (export "table") 1 funcref)
      (func $id (param i32) (result i32) (local.get 0))
      (elem (i32.const 0) $id)
      (func (export "pages") (result i32) (memory.size))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1))))`,
    calls: [
      (e) => (e.memory as WebAssembly.Memory).grow(1),
      (e) => fn(e, "pages")(),
      (e) => fn(e, "grow")(1),
      (e) => fn(e, "grow")(5),
      (e) => fn(e, "store")(65536 * 3 - 4, 0x01020304),
      (e) => Array.from(new Uint8Array((e.memory as WebAssembly.Memory).buffer, 65536 * 3 - 4, 4)),
      (e) => ((e.table as WebAssembly.Table).get(0) as Fn)(41),
    ],
  },
};

describe("metered modules compute what the originals compute", () => {
  for (const [name, c] of Object.entries(CASES)) {
    for (const counter of COUNTERS) {
      it(`${name} (${counter} counter)`, () => {
        const bytes = wat(c.wat);
        const plain = instantiatePlain(bytes, c.imports?.());
        // little fuel at a time, so calls run out and refill in many places
        const metered = instantiateMetered(bytes, { imports: c.imports?.(), counter, startFuel: 5, refill: () => 50 });
        const expected = c.calls.map((call) => outcome(() => call(plain)));
        const actual = c.calls.map((call) => outcome(() => call(metered.exports)));
        expect(actual).toEqual(expected);
        expect(expected.some((o) => o.startsWith("ok"))).toBe(true);
        expect(metered.refills()).toBeGreaterThan(0);
      });
    }
  }

  for (const file of committedModules()) {
    it(`test-modules/${file} validates metered, both counters`, () => {
      const bytes = new Uint8Array(readFileSync(join(MODULES, file)));
      for (const counter of COUNTERS) {
        const metered = meterModule(bytes, { counter });
        expect(WebAssembly.validate(metered.bytes)).toBe(true);
        walkCode(metered.bytes);
        const before = readWasmInfo(bytes);
        const after = readWasmInfo(metered.bytes);
        expect(after.functions).toEqual(before.functions); // same exports, signatures and parameter names
        expect(after.imports).toEqual([
          ...before.imports,
          { module: METER_NAMESPACE, name: METER_FUNCTION, kind: "function", signature: { params: [], results: ["i32"] } },
        ]);
      }
    });
  }

  it("the faults module's ok() answers metered", () => {
    const bytes = new Uint8Array(readFileSync(join(MODULES, "faults/loop.wasm")));
    expect(fn(instantiateMetered(bytes).exports, "ok")()).toBe(1);
  });
});

describe("stopping", () => {
  const loop = new Uint8Array(readFileSync(join(MODULES, "faults/loop.wasm")));

  for (const counter of COUNTERS) {
    it(`an endless loop stops when the host throws (${counter} counter)`, () => {
      let asked = 0;
      const m = instantiateMetered(loop, {
        counter,
        startFuel: 10_000,
        refill: () => {
          if (++asked === 3) throw new Stop("out of time");
          return 100_000;
        },
      });
      expect(() => fn(m.exports, "spin")()).toThrow(Stop);
      expect(asked).toBe(3);
      expect(fn(m.exports, "ok")()).toBe(1); // the instance still serves
    });

    it(`an endless loop traps when the host answers -1 (${counter} counter)`, () => {
      const m = instantiateMetered(loop, { counter, startFuel: 500, refill: () => -1 });
      expect(() => fn(m.exports, "spin")()).toThrow(new WebAssembly.RuntimeError("unreachable"));
    });

    it(`unbounded recursion stops when the host throws, before the stack overflows (${counter} counter)`, () => {
      const bytes = wat(`(module (func $down (export "down") (param i32) (result i32)
        (i32.add (call $down (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))`);
      const m = instantiateMetered(bytes, {
        counter,
        startFuel: 5_000,
        refill: () => {
          throw new Stop("out of time");
        },
      });
      expect(() => fn(m.exports, "down")(0)).toThrow(Stop);
    });

    it(`deep but finite recursion completes with small refills (${counter} counter)`, () => {
      const bytes = wat(`(module (func $sum (export "sum") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (local.get 0) (call $sum (i32.sub (local.get 0) (i32.const 1))))))))`);
      const m = instantiateMetered(bytes, { counter, startFuel: 100, refill: () => 1_000 });
      expect(fn(m.exports, "sum")(5_000)).toBe((5_000 * 5_001) / 2);
      expect(m.refills()).toBeGreaterThan(50);
    });

    const stubborn = wat(`(module
      (func $spin (loop $l (br $l)))
      (func (export "stubborn") (loop $again (try (do (call $spin)) (catch_all)) (br $again))))`);

    it(`a module that catches every exception still stops: the next check asks again (${counter} counter)`, () => {
      let asked = 0;
      const m = instantiateMetered(stubborn, {
        counter,
        startFuel: 1_000,
        refill: () => {
          asked++;
          throw new Stop("out of time");
        },
      });
      // catch_all swallows the first Stop (thrown inside the try); the balance is still negative, so
      // the loop header outside the try asks again, and that Stop leaves the module
      expect(() => fn(m.exports, "stubborn")()).toThrow(Stop);
      expect(asked).toBe(2);
    });

    it(`a -1 stop traps at once, whatever handlers the module has (${counter} counter)`, () => {
      let asked = 0;
      const m = instantiateMetered(stubborn, { counter, startFuel: 1_000, refill: () => (asked++, -1) });
      expect(() => fn(m.exports, "stubborn")()).toThrow(new WebAssembly.RuntimeError("unreachable"));
      expect(asked).toBe(1);
    });

    it(`a start function asks the host before the instance exists (${counter} counter)`, () => {
      const bytes = wat(`(module (func $init (loop $l (br $l))) (start $init))`);
      expect(() => instantiateMetered(bytes, { counter, refill: () => -1 })).toThrow(new WebAssembly.RuntimeError("unreachable"));
    });
  }
});

describe("fuel accounting", () => {
  // Entry region: `loop` (1). Loop region: local.get, i32.const, i32.add, local.set, local.get,
  // local.get, i32.lt_u, br_if (8). `end` is free.
  const counting = wat(`(module (func (export "count") (param $n i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))`);

  for (const counter of COUNTERS) {
    it(`a loop spends one unit per instruction it runs (${counter} counter)`, () => {
      const m = instantiateMetered(counting, { counter, startFuel: 1_000_000 });
      fn(m.exports, "count")(1000);
      expect(1_000_000 - Number(m.fuel.value)).toBe(1 + 8 * 1000);
      m.fuel.value = 1_000_000;
      fn(m.exports, "count")(1);
      expect(1_000_000 - Number(m.fuel.value)).toBe(1 + 8);
    });

    it(`the host sees the balance after the charge, and its answer becomes the fuel (${counter} counter)`, () => {
      const seen: number[] = [];
      const m = instantiateMetered(counting, {
        counter,
        startFuel: 20,
        refill: (fuel) => {
          seen.push(fuel());
          return 1_000;
        },
      });
      fn(m.exports, "count")(10);
      // 20 - 1 (entry) - 8 - 8 = 3, then 3 - 8 = -5: the host is asked, answers 1000
      expect(seen).toEqual([-5]);
      expect(Number(m.fuel.value)).toBe(1_000 - 7 * 8);
    });
  }

  it("a function with a call-free loop counts in a local and keeps its callees' spending", () => {
    const bytes = wat(`(module
      (func $leaf (result i32) (i32.const 1))
      (func (export "run") (param $n i32) (result i32) (local $s i32)
        (local.set $s (call $leaf))
        (loop $l
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $s) (local.get $n))))
        (i32.add (local.get $s) (call $leaf))))`);
    // only the local counter declares one more local: the rewrites differ
    expect(meterModule(bytes, { counter: "local" }).bytes.length).not.toBe(meterModule(bytes, { counter: "global" }).bytes.length);
    const m = instantiateMetered(bytes, { counter: "local", startFuel: 1_000_000 });
    expect(fn(m.exports, "run")(100)).toBe(101);
    // entry: call, local.set, loop, local.get, call, i32.add (6); 99 iterations of 8; the leaf's
    // i32.const (1) twice
    expect(1_000_000 - Number(m.fuel.value)).toBe(6 + 99 * 8 + 2);
  });
});

describe("what the rewrite keeps and adds", () => {
  it("keeps function and parameter names on the right functions, so traps show them", () => {
    const bytes = wat(`(module
      (import "env" "f" (func $imported))
      (func $helper (param $x i32) (result i32) (local $tmp i32)
        (if (i32.gt_s (local.get $x) (i32.const 5)) (then unreachable)) (local.get $x))
      (func $outer (export "outer") (param $value i32) (result i32) (call $helper (local.get $value))))`);
    const imports = { env: { f: () => {} } };
    const names = (e: WebAssembly.Exports) => {
      try {
        fn(e, "outer")(9);
      } catch (err) {
        return [...String((err as Error).stack).matchAll(/at (\S+) \(wasm/g)].map((m) => m[1]);
      }
      return [];
    };
    const plainNames = names(instantiatePlain(bytes, imports));
    expect(plainNames).toEqual(["helper", "outer"]);
    expect(names(instantiateMetered(bytes, { imports }).exports)).toEqual(plainNames);
    expect(readWasmInfo(meterModule(bytes).bytes).functions[0]!.paramNames).toEqual(["value"]);
  });

  it("re-encodes function indices whose LEB128 grows a byte", () => {
    // 127 imported functions: the first defined function moves from index 127 (one byte) to 128 (two)
    const imports = Array.from({ length: 127 }, (_, i) => `(import "env" "f${i}" (func $f${i} (result i32)))`).join("\n");
    const bytes = wat(`(module ${imports}
      (table (export "table") 2 funcref) (elem (i32.const 0) $a $b)
      (func $a (export "a") (result i32) (i32.add (call $b) (call $f126)))
      (func $b (result i32) (i32.const 40))
      (func (export "viaRef") (result i32) (call_indirect (result i32) (i32.const 1))))`);
    const env = Object.fromEntries(Array.from({ length: 127 }, (_, i) => [`f${i}`, () => i]));
    const plain = instantiatePlain(bytes, { env });
    const metered = instantiateMetered(bytes, { imports: { env } }).exports;
    for (const e of [plain, metered]) {
      expect(fn(e, "a")()).toBe(166);
      expect(fn(e, "viaRef")()).toBe(40);
      expect(((e.table as WebAssembly.Table).get(0) as Fn)()).toBe(166);
    }
  });

  it("adds the import last among functions, the fuel global last, and reuses an existing () -> i32 type", () => {
    const bytes = wat(`(module
      (import "env" "g" (global i32))
      (import "env" "f" (func (result i32)))
      (global (mut i32) (i32.const 1))
      (func (export "f") (result i32) (i32.const 1)))`);
    const metered = meterModule(bytes);
    const info = readWasmInfo(metered.bytes);
    expect(info.imports.map((i) => `${i.module}.${i.name}`)).toEqual(["env.g", "env.f", `${METER_NAMESPACE}.${METER_FUNCTION}`]);
    expect(info.globals.map((g) => [g.index, g.type, g.mutable, g.imported])).toEqual([
      [0, "i32", false, true],
      [1, "i32", true, false],
      [2, "i32", true, false],
    ]);
    expect(info.exports).toContainEqual({ name: FUEL_EXPORT, kind: "global", index: 2 });
    expect(metered).toMatchObject({ importModule: METER_NAMESPACE, importName: METER_FUNCTION, fuelExport: FUEL_EXPORT, functions: 1 });
  });

  it("meters a module with no imports, globals or exports", () => {
    const metered = meterModule(wat(`(module (func (loop $l (br $l))))`));
    expect(WebAssembly.validate(metered.bytes)).toBe(true);
    expect(metered.checks).toBe(2);
  });

  it("meters a module with no functions", () => {
    const metered = meterModule(wat(`(module (memory (export "memory") 1))`));
    expect(WebAssembly.validate(metered.bytes)).toBe(true);
    expect(metered.functions).toBe(0);
  });

});

describe("proposals V8 in Node 20 does not run: the metered module still validates or decodes", () => {
  // wabt validates these; for multi-memory and extended const its validator lacks the proposals,
  // so the metered module is decoded instead
  const VALIDATED: Record<string, string> = {
    "try_table and exnref, catching to blocks outside a loop": `(module (tag $e (param i32))
      (func (export "f") (param $n i32) (result i32) (local $i i32)
        (block $out
          (loop $l
            (block $h (result i32)
              (drop (block $ref (result exnref)
                (try_table (catch $e $h) (catch_all $out) (catch_all_ref $ref)
                  (if (i32.gt_u (local.get $i) (i32.const 3)) (then (throw $e (local.get $i)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $l)))
              (br $out))
            (drop)
            (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
        (i32.const 7)))`,
    "memory64 addresses and offsets in a loop": `(module (memory i64 1)
      (func (export "f") (param $n i64) (result i64) (local $p i64) (local $s i64)
        (loop $l
          (local.set $s (i64.add (local.get $s) (i64.load offset=4294967296 (local.get $p))))
          (br_if $l (i64.lt_u (local.tee $p (i64.add (local.get $p) (i64.const 8))) (local.get $n))))
        (local.get $s)))`,
  };
  const DECODED: Record<string, string> = {
    "multi-memory copies in a loop": `(module (memory $a 1) (memory $b 1)
      (func (export "f") (param $n i32) (local $i i32)
        (loop $l
          (i32.store $a (local.get $i) (i32.load $b offset=4 (local.get $i)))
          (memory.copy $b $a (i32.const 0) (i32.const 16) (i32.const 4))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $n))))))`,
    "extended-const initializers and ref.func in globals": `(module
      (import "env" "base" (global $base i32))
      (global (export "end") i32 (i32.add (global.get $base) (i32.mul (i32.const 4) (i32.const 16))))
      (global funcref (ref.func $f))
      (func $f (result i32) (global.get $base)))`,
  };
  Object.assign(VALIDATED, {
    "relaxed SIMD in a loop": `(module
      (func (export "f") (param $n i32) (result i32) (local $v v128) (local $i i32)
        (loop $l
          (local.set $v (f32x4.relaxed_madd (local.get $v) (f32x4.splat (f32.const 1.5)) (i32x4.relaxed_laneselect (local.get $v) (local.get $v) (local.get $v))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (i32x4.extract_lane 0 (local.get $v))))`,
  });
  for (const [name, text] of Object.entries(VALIDATED)) {
    it(`${name}: wabt validates it metered`, () => {
      const bytes = wat(text);
      validateWithWabt(bytes);
      for (const counter of COUNTERS) validateWithWabt(meterModule(bytes, { counter }).bytes);
    });
  }
  for (const [name, text] of Object.entries(DECODED)) {
    it(`${name}: decodes metered, exports and globals kept`, () => {
      const bytes = wat(text);
      const before = readWasmInfo(bytes);
      for (const counter of COUNTERS) {
        const metered = meterModule(bytes, { counter }).bytes;
        expect(walkCode(metered).functions).toBe(walkCode(bytes).functions + 1); // the refill helper
        const after = readWasmInfo(metered);
        expect(after.functions).toEqual(before.functions);
        expect(after.globals.slice(0, -1)).toEqual(before.globals);
      }
    });
  }
});

describe("branches that leave a loop", () => {
  /** The label immediates of every br_on_* in a module's code. */
  const branchLabels = (bytes: Uint8Array) => {
    const labels: string[] = [];
    walkCode(bytes, (op, at) => {
      if (op === 0xd5 || op === 0xd6) labels.push(`${op.toString(16)} ${bytes[at + 1]}`);
      if (op === 0xfb && (bytes[at + 1] === 0x18 || bytes[at + 1] === 0x19)) labels.push(`fb${bytes[at + 1]!.toString(16)} ${bytes[at + 3]}`);
    });
    return labels;
  };

  it("br_on_null, br_on_non_null and br_on_cast to a block outside a loop cross its three wrappers", () => {
    // (block $out (loop $l ref.null func; br_on_null $out; br_on_non_null $l; br_on_cast $out ...; br $l))
    const bytes = rawBodies([[
      0x00, 0x02, 0x40, 0x03, 0x40,
      0xd0, 0x70, 0xd5, 0x01, 0xd6, 0x00, 0xfb, 0x18, 0x03, 0x01, 0x6e, 0x6b, 0x1a, 0x0c, 0x00,
      0x0b, 0x0b, 0x0b,
    ]]);
    expect(branchLabels(bytes)).toEqual(["d5 1", "d6 0", "fb18 1"]);
    for (const counter of COUNTERS) {
      // $out moves from 1 to 4 ($refill, $resume and $exit sit between); the loop's own label stays
      expect(branchLabels(meterModule(bytes, { counter }).bytes)).toEqual(["d5 4", "d6 0", "fb18 4"]);
    }
  });
});

describe("what cannot be metered", () => {
  it("a module with GC-proposal types", () => {
    // type section: one struct type (0x5f) with no fields
    const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x03, 0x01, 0x5f, 0x00]);
    expect(() => meterModule(bytes)).toThrow(new MeterError("cannot meter this module: it defines GC-proposal types (type form 0x5f), which WasmForge does not rewrite"));
  });

  it("a module metered already", () => {
    const once = meterModule(wat(`(module (func))`)).bytes;
    expect(() => meterModule(once)).toThrow(/already imports wasmforge:meter\.out_of_fuel/);
  });

  it("a module exporting the fuel global's name", () => {
    expect(() => meterModule(wat(`(module (global (export "${FUEL_EXPORT}") i32 (i32.const 0)))`))).toThrow(MeterError);
  });

  it("a body with an instruction WasmForge does not know, naming the body and offset", () => {
    expect(() => meterModule(rawBodies([[0x00, 0x27, 0x0b]]))).toThrow(/cannot meter this module: code body #0: unknown instruction 0x27 at byte offset \d+/);
  });
});
