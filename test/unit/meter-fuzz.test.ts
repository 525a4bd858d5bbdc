// Random but valid modules, metered and not, must agree: same results, same traps, same memory.
// A seeded generator writes structured control flow (nested block/loop/if, br, br_if, br_table,
// return), calls between functions (direct, indirect, imported), locals and memory traffic. Every
// loop is bounded by its own counter, and calls only go to later functions, so every call ends.

import { describe, expect, it } from "vitest";
import { prng } from "../reliability/frames.js";
import { wat } from "./wasm-fixtures.js";
import { instantiateMetered, instantiatePlain, outcome, type Imports } from "./metered.js";

const MODULES = Number(process.env.WASMFORGE_METER_FUZZ ?? 120);

interface Label {
  name: string;
  /** A loop label with its counter: branching to it must stay bounded. */
  loop?: { counter: string; bound: number };
}

class Generator {
  private labels = 0;
  private counters = 0;
  private readonly random: () => number;
  constructor(seed: number) {
    this.random = prng(seed);
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  module(): string {
    const count = 2 + this.int(4);
    const funcs: string[] = [];
    for (let i = 0; i < count; i++) funcs.push(this.func(i, count));
    const table = Array.from({ length: count }, (_, i) => `$f${i}`).join(" ");
    return `(module
      (import "env" "mix" (func $mix (param i32) (result i32)))
      (type $sig (func (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (global $g (mut i32) (i32.const 7))
      (table ${count} funcref) (elem (i32.const 0) ${table})
      ${funcs.join("\n")})`;
  }

  private fn = { index: 0, count: 0, counters: [] as string[] };

  private func(index: number, count: number): string {
    this.fn = { index, count, counters: [] };
    const body = this.statements(3, [], 0);
    const result = this.expr(3, 0);
    const counters = this.fn.counters.map((c) => `(local ${c} i32)`).join(" ");
    return `(func $f${index} (export "f${index}") (type $sig) (param $p0 i32) (param $p1 i32) (result i32)
      (local $l0 i32) (local $l1 i32) (local $l2 i32) ${counters}
      ${body}
      ${result})`;
  }

  private local(): string {
    return this.pick(["$l0", "$l1", "$l2"]);
  }

  private readable(): string {
    return this.pick(["$p0", "$p1", "$l0", "$l1", "$l2", ...this.fn.counters]);
  }

  private address(depth: number, loops: number): string {
    return `(i32.and ${this.expr(depth - 1, loops)} (i32.const 0xffc))`;
  }

  statements(depth: number, labels: Label[], loops: number): string {
    const n = 1 + this.int(depth > 0 ? 4 : 2);
    return Array.from({ length: n }, () => this.statement(depth, labels, loops)).join("\n");
  }

  private statement(depth: number, labels: Label[], loops: number): string {
    const roll = this.int(depth > 0 ? 12 : 4);
    switch (roll) {
      case 0:
        return `(local.set ${this.local()} ${this.expr(depth, loops)})`;
      case 1:
        return `(${this.pick(["i32.store", "i32.store8", "i32.store16"])} offset=${this.int(4) * 4} ${this.address(depth, loops)} ${this.expr(depth, loops)})`;
      case 2:
        return `(global.set $g (i32.add (global.get $g) ${this.expr(depth - 1, loops)}))`;
      case 3: {
        const blocks = labels.filter((l) => !l.loop);
        if (blocks.length > 0 && this.chance(0.5)) return `(br_if ${this.pick(blocks).name} ${this.expr(depth, loops)})`;
        return `(drop ${this.expr(depth, loops)})`;
      }
      case 4:
        return `(if ${this.expr(depth - 1, loops)} (then ${this.statements(depth - 1, labels, loops)}) (else ${this.statements(depth - 1, labels, loops)}))`;
      case 5: {
        const name = `$b${this.labels++}`;
        const inner = [{ name }, ...labels];
        return `(block ${name} ${this.statements(depth - 1, inner, loops)} (br_if ${name} ${this.expr(depth - 1, loops)}) ${this.statements(depth - 1, inner, loops)})`;
      }
      case 6:
      case 7: {
        if (loops >= 2) return `(local.set ${this.local()} ${this.expr(depth, loops)})`;
        const name = `$L${this.labels++}`;
        const counter = `$c${this.counters++}`;
        this.fn.counters.push(counter);
        const bound = 1 + this.int(4);
        const loop: Label = { name, loop: { counter, bound } };
        const inner = [loop, ...labels];
        // the counter goes up first, so even a `continue` (br to the loop) moves it on
        const next = this.chance(0.4)
          ? `(br_if ${name} (i32.and (i32.lt_u (local.get ${counter}) (i32.const ${bound})) ${this.expr(depth - 1, loops + 1)}))`
          : "";
        return `(local.set ${counter} (i32.const 0))
          (loop ${name}
            (local.set ${counter} (i32.add (local.get ${counter}) (i32.const 1)))
            ${this.statements(depth - 1, inner, loops + 1)}
            ${next}
            ${this.statements(depth - 1, inner, loops + 1)}
            (br_if ${name} (i32.lt_u (local.get ${counter}) (i32.const ${bound}))))`;
      }
      case 8: {
        // br_table over fresh blocks and enclosing ones (never a loop: that would not be bounded)
        const a = `$b${this.labels++}`;
        const b = `$b${this.labels++}`;
        const outer = labels.filter((l) => !l.loop).map((l) => l.name);
        const targets = Array.from({ length: 1 + this.int(4) }, () => this.pick([a, b, ...outer]));
        const inner = [{ name: a }, ...labels];
        return `(block ${a} (block ${b} (br_table ${targets.join(" ")} ${this.pick([a, b])} ${this.expr(depth - 1, loops)}))
          ${this.statements(depth - 1, inner, loops)})`;
      }
      case 9:
        return this.chance(0.15) ? `(return ${this.expr(depth - 1, loops)})` : `(local.set ${this.local()} ${this.expr(depth, loops)})`;
      case 10:
        return this.chance(0.5)
          ? `(memory.fill ${this.address(depth, loops)} ${this.expr(depth - 1, loops)} (i32.const ${this.int(16)}))`
          : `(memory.copy ${this.address(depth, loops)} ${this.address(depth, loops)} (i32.const ${this.int(16)}))`;
      default:
        return `(local.set ${this.local()} ${this.call(depth, loops) ?? this.expr(depth, loops)})`;
    }
  }

  /** A call to a later function: at loop depth 0 any, inside loops only the last (a leaf), so calls stay few. */
  private call(depth: number, loops: number): string | undefined {
    const { index, count } = this.fn;
    if (index === count - 1) return this.chance(0.3) ? `(call $mix ${this.expr(depth - 1, loops)})` : undefined;
    const target = loops === 0 ? index + 1 + this.int(count - index - 1) : count - 1;
    const args = `${this.expr(depth - 1, loops)} ${this.expr(depth - 1, loops)}`;
    if (this.chance(0.3)) return `(call_indirect (type $sig) ${args} (i32.const ${target}))`;
    return `(call $f${target} ${args})`;
  }

  expr(depth: number, loops: number): string {
    if (depth <= 0 || this.chance(0.25)) {
      return this.chance(0.5) ? `(local.get ${this.readable()})` : `(i32.const ${this.pick([0, 1, 2, 7, -1, 255, 0x7fffffff, -0x80000000, this.int(1000)])})`;
    }
    const roll = this.int(11);
    switch (roll) {
      case 0:
      case 1: {
        const op = this.pick(["add", "sub", "mul", "and", "or", "xor", "shl", "shr_u", "shr_s", "rotl", "rotr", "eq", "ne", "lt_s", "lt_u", "gt_u", "ge_s"]);
        return `(i32.${op} ${this.expr(depth - 1, loops)} ${this.expr(depth - 1, loops)})`;
      }
      case 2: {
        // usually safe, now and then a real trap (division by zero, overflow): both sides must trap alike
        const divisor = this.chance(0.9) ? `(i32.or ${this.expr(depth - 1, loops)} (i32.const 1))` : this.expr(depth - 1, loops);
        return `(i32.${this.pick(["div_u", "rem_u", "div_s", "rem_s"])} ${this.expr(depth - 1, loops)} ${divisor})`;
      }
      case 3:
        return `(i32.${this.pick(["eqz", "clz", "ctz", "popcnt", "extend8_s"])} ${this.expr(depth - 1, loops)})`;
      case 4:
        return `(${this.pick(["i32.load", "i32.load8_u", "i32.load16_s"])} offset=${this.int(4) * 4} ${this.address(depth, loops)})`;
      case 5:
        return `(select ${this.expr(depth - 1, loops)} ${this.expr(depth - 1, loops)} ${this.expr(depth - 1, loops)})`;
      case 6:
        return this.call(depth, loops) ?? `(global.get $g)`;
      case 7:
        return `(if (result i32) ${this.expr(depth - 1, loops)} (then ${this.expr(depth - 1, loops)}) (else ${this.expr(depth - 1, loops)}))`;
      case 8: {
        const name = `$v${this.labels++}`;
        return `(block ${name} (result i32) ${this.statements(depth - 1, [], loops)}
          (br_if ${name} ${this.expr(depth - 1, loops)} ${this.expr(depth - 1, loops)}) (drop) ${this.expr(depth - 1, loops)})`;
      }
      case 9:
        return `(i32.wrap_i64 (i64.shr_u (i64.mul (i64.extend_i32_u ${this.expr(depth - 1, loops)}) (i64.const 0x9e3779b97f4a7c15)) (i64.const 29)))`;
      default:
        return `(global.get $g)`;
    }
  }
}

const env = (): Imports => ({ env: { mix: (x: number) => Math.imul(x ^ (x >>> 16), 0x45d9f3b) } });

/** FNV-1a over the part of memory the generated code can touch. */
function memoryHash(e: WebAssembly.Exports): number {
  const bytes = new Uint8Array((e.memory as WebAssembly.Memory).buffer, 0, 4096 + 32);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

describe("metered and unmetered random modules agree", () => {
  it(`${MODULES} generated modules: same results, traps, globals and memory; metered never fails where plain succeeds`, () => {
    let calls = 0;
    let traps = 0;
    for (let seed = 1; seed <= MODULES; seed++) {
      const g = new Generator(seed);
      const text = g.module();
      const bytes = wat(text, `fuzz-${seed}.wat`);
      const plain = instantiatePlain(bytes, env());
      // one instance refills in tiny steps (the host is asked all the time), one has ample fuel
      const often = instantiateMetered(bytes, { imports: env(), counter: "local", startFuel: 3, refill: () => 1 + (seed % 40) });
      const ample = instantiateMetered(bytes, { imports: env(), counter: "global", maxRefills: 1_000 });
      const exports = Object.keys(plain).filter((k) => k.startsWith("f"));
      for (const name of exports) {
        for (let i = 0; i < 3; i++) {
          const a = g.pick([0, 1, -1, 0x7fffffff, g.int(100_000)]);
          const b = g.pick([0, 2, -7, g.int(1 << 30)]);
          const expected = outcome(() => (plain[name] as (x: number, y: number) => number)(a, b));
          for (const m of [often, ample]) {
            const actual = outcome(() => (m.exports[name] as (x: number, y: number) => number)(a, b));
            expect(actual, `seed ${seed}, ${name}(${a}, ${b})\n${text}`).toBe(expected);
            expect(memoryHash(m.exports), `memory after seed ${seed}, ${name}(${a}, ${b})`).toBe(memoryHash(plain));
          }
          calls++;
          if (!expected.startsWith("ok")) traps++;
        }
      }
    }
    expect(calls).toBeGreaterThan(MODULES * 3);
    expect(traps).toBeLessThan(calls / 2); // mostly successful calls, some traps
  });
});
