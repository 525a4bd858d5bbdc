// Why a call failed (src/runtime/failure.ts), on real failures of real modules, and how sizes and
// key paths are written in messages (src/core/format.ts).

import { describe, expect, it } from "vitest";
import { formatBytes, formatKeyPath } from "../../src/core/format.js";
import { describeFailure, spoilsInstance, ToolError, truncate, type FailureKind } from "../../src/runtime/failure.js";
import { wat } from "../wat.js";

const MIB = 1024 * 1024;

/** Instantiates a module and runs its export `run`; returns what it threw and its memory. */
function failureOf(source: string): { err: unknown; memory?: WebAssembly.Memory } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wat(source) as Uint8Array<ArrayBuffer>));
  const memory = instance.exports.memory as WebAssembly.Memory | undefined;
  try {
    (instance.exports.run as () => unknown)();
  } catch (err) {
    return { err, memory };
  }
  throw new Error("run() did not fail");
}

const kindAndText = (failure: ToolError): [FailureKind, string] => [failure.kind, failure.message];

describe("describeFailure", () => {
  it("a stack overflow is a trap, even in a module whose memory is full", () => {
    const { err, memory } = failureOf(`(module (memory (export "memory") 16 16) (func $run (export "run") (call $run)))`);
    expect(err).toBeInstanceOf(RangeError);
    expect(memory!.buffer.byteLength).toBe(MIB);
    const failure = describeFailure(err, memory, { maxMemoryBytes: MIB });
    expect(kindAndText(failure)).toEqual(["trap", "wasm trap: stack overflow (the module recursed too deeply): Maximum call stack size exceeded"]);
    expect(spoilsInstance(failure)).toBe(true);
  });

  it("a module that fails with its memory at the cap hit the memory limit, and says how much it used", () => {
    // Grows until memory.grow says no (-1), then gives up with unreachable, as allocators do.
    const { err, memory } = failureOf(`(module (memory (export "memory") 1 16)
      (func (export "run") (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable))`);
    expect(err).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(kindAndText(describeFailure(err, memory, { maxMemoryBytes: MIB }))).toEqual([
      "memory",
      "memory limit reached: the module used 1 MiB of its 1 MiB (max_memory_mb), then failed: unreachable",
    ]);
  });

  it("an allocation the host could not make is the memory limit too, however little the module used", () => {
    const failure = describeFailure(new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded"), new WebAssembly.Memory({ initial: 1 }), { maxMemoryBytes: 16 * MIB });
    expect(failure.kind).toBe("memory");
    expect(failure.message).toMatch(/^memory limit reached: the module used 64 KiB of its 16 MiB \(max_memory_mb\), then failed: /);
  });

  it("any other trap is a wasm trap with the engine's message", () => {
    const { err, memory } = failureOf(`(module (memory (export "memory") 1) (func (export "run") (result i32) (i32.div_s (i32.const 1) (i32.const 0))))`);
    expect(kindAndText(describeFailure(err, memory, { maxMemoryBytes: 16 * MIB }))).toEqual(["trap", "wasm trap: divide by zero"]);
    expect(kindAndText(describeFailure(new Error("host function failed"), undefined, { maxMemoryBytes: MIB }))).toEqual(["trap", "host function failed"]);
    expect(describeFailure({ message: "thrown object" }, undefined, { maxMemoryBytes: MIB }).message).toBe("thrown object");
    expect(describeFailure("a string", undefined, { maxMemoryBytes: MIB }).message).toBe("a string");
  });

  it("a ToolError is already described: it passes as it is, and its kind says whether the instance may serve again", () => {
    const own = new ToolError("module", "the plugin said no");
    expect(describeFailure(own, undefined, { maxMemoryBytes: MIB })).toBe(own);
    expect((["module", "host", "output"] as const).map((kind) => spoilsInstance(new ToolError(kind, "")))).toEqual([false, false, false]);
    expect((["trap", "memory", "instantiate", "stopped"] as const).map((kind) => spoilsInstance(new ToolError(kind, "")))).toEqual([true, true, true, true]);
    expect(spoilsInstance(new Error("unknown"))).toBe(true);
  });

  it("truncate cuts text over the limit with a marker saying how much", () => {
    expect(truncate("short", 10)).toBe("short");
    expect(truncate("x".repeat(15), 10)).toBe(`${"x".repeat(10)}… (5 more characters cut: over the limit)`);
  });
});

describe("format", () => {
  it("formatBytes: binary units, one decimal at most", () => {
    expect([0, 512, 1023, 1024, 1536, MIB, 1.25 * MIB, 3.5 * 1024 * MIB].map(formatBytes)).toEqual([
      "0 B",
      "512 B",
      "1023 B",
      "1 KiB",
      "1.5 KiB",
      "1 MiB",
      "1.3 MiB",
      "3.5 GiB",
    ]);
  });

  it("formatKeyPath: as a user writes the key in TOML", () => {
    expect(formatKeyPath(["modules", 1, "source", "path"])).toBe("modules[1].source.path");
    expect(formatKeyPath(["server", "timeout_ms"])).toBe("server.timeout_ms");
    expect(formatKeyPath([0, "name"])).toBe("[0].name");
    expect(formatKeyPath([])).toBe("(top level)");
  });
});
