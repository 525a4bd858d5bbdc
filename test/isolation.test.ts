// Bounded, isolated calls: no module can hang, crash or starve the server.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { connect, jsonLines, moduleEntry, runCli, tempDir, textOf, writeConfig, type Connected } from "./helpers.js";
import { wat } from "./wat.js";

const FAULTS = [
  "[server]\ntimeout_ms = 5000\n",
  moduleEntry("loop", "faults/loop.wasm", "timeout_ms = 300"),
  moduleEntry("trap", "faults/trap.wasm"),
  moduleEntry("bomb", "faults/membomb.wasm", "max_memory_mb = 16"),
  moduleEntry("slow", "faults/slow.wasm"),
  moduleEntry("strings", "faults/bad-strings.wasm", '[[modules.tools]]\nfunction_name = "huge"\npattern = "no_params_to_string"\n'),
  moduleEntry("math", "example.wasm"),
].join("\n");

describe("fault modules", () => {
  let server: Connected;
  beforeAll(async () => {
    server = await connect(["serve", "--config", writeConfig(FAULTS)]);
  });
  afterAll(() => server.close());

  it("an endless loop times out within its deadline while another module answers at once", async () => {
    const started = Date.now();
    const finished: string[] = [];
    const looping = server.client.callTool({ name: "spin", arguments: {} }).finally(() => finished.push("spin"));
    const add = await server.client.callTool({ name: "add", arguments: { a: 2, b: 2 } }).finally(() => finished.push("add"));
    expect(textOf(add)).toBe("4");
    const result = await looping;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("timed out after 300 ms");
    expect(finished).toEqual(["add", "spin"]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("the timed-out module serves its next call", async () => {
    expect(textOf(await server.client.callTool({ name: "ok", arguments: {} }))).toBe("1");
  });

  it("a trap is a clear error", async () => {
    const result = await server.client.callTool({ name: "divide", arguments: { a: 1, b: 0 } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/wasm trap: divide by zero/);
    expect(textOf(await server.client.callTool({ name: "divide", arguments: { a: 9, b: 3 } }))).toBe("3");
  });

  it("a memory bomb fails at its cap with a clear error", async () => {
    const result = await server.client.callTool({ name: "grow", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/memory limit reached.*16 MiB \(max_memory_mb\)/);
  });

  it("output over the cap is a clear error", async () => {
    const result = await server.client.callTool({ name: "huge", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/20971520 bytes is over the output limit of 16777216 bytes/);
  });

  it("two slow calls run in parallel", async () => {
    const started = Date.now();
    const results = await Promise.all([
      server.client.callTool({ name: "sleep_ms", arguments: { ms: 1000 } }),
      server.client.callTool({ name: "sleep_ms", arguments: { ms: 1000 } }),
    ]);
    expect(results.map(textOf)).toEqual(["1000", "1000"]);
    // One after the other would take 2 s.
    expect(Date.now() - started).toBeLessThan(1900);
  });

  it("a cancelled call ends its worker and the slot serves again", async () => {
    const controller = new AbortController();
    const slow = server.client.callTool({ name: "sleep_ms", arguments: { ms: 4000 } }, CallToolResultSchema, { signal: controller.signal });
    setTimeout(() => controller.abort("user pressed stop"), 100);
    await expect(slow).rejects.toThrow();
    expect(server.stderr()).not.toMatch(/timed out after 5000/);
    expect(textOf(await server.client.callTool({ name: "sleep_ms", arguments: { ms: 10 } }))).toBe("10");
  });

  it("a call with a progress token gets progress notifications", async () => {
    const seen: number[] = [];
    const result = await server.client.callTool({ name: "sleep_ms", arguments: { ms: 50 } }, CallToolResultSchema, {
      onprogress: (p) => seen.push(p.progress),
    });
    expect(textOf(result)).toBe("50");
    expect(seen).toContain(0);
  });
});

describe("one worker", () => {
  it("cancellation frees the only slot for the next call", async () => {
    const config = writeConfig(["[server]\npool_size = 1\n", moduleEntry("slow", "faults/slow.wasm"), moduleEntry("math", "example.wasm")].join("\n"));
    const server = await connect(["serve", "--config", config]);
    try {
      const controller = new AbortController();
      const slow = server.client.callTool({ name: "sleep_ms", arguments: { ms: 8000 } }, CallToolResultSchema, { signal: controller.signal });
      await new Promise((r) => setTimeout(r, 100));
      controller.abort();
      await expect(slow).rejects.toThrow();
      const started = Date.now();
      expect(textOf(await server.client.callTool({ name: "add", arguments: { a: 1, b: 1 } }))).toBe("2");
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await server.close();
    }
  });
});

describe("module output", () => {
  it("never reaches stdout; it is logged on stderr", async () => {
    const config = writeConfig(moduleEntry("noisy", "faults/stdout.wasm"));
    const { code, stdout, stderr } = await runCli(["serve", "--config", config], {
      input: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shout","arguments":{}}}\n',
    });
    expect(code).toBe(0);
    const replies = jsonLines(stdout);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ id: 1, result: { content: [{ text: "1" }] } });
    expect(stdout).not.toContain("hello from the module");
    expect(stderr).toContain("hello from the module on stdout");
  });
});

describe("module state", () => {
  // next() bumps a private global and a counter in memory, and returns both as one number.
  const counter = (): Uint8Array =>
    wat(
      `(module (memory (export "memory") 1)
        (global $n (mut i32) (i32.const 0))
        (func (export "next") (result i32)
          (global.set $n (i32.add (global.get $n) (i32.const 1)))
          (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (i32.const 1)))
          (i32.add (i32.mul (global.get $n) (i32.const 1000)) (i32.load (i32.const 64)))))`,
    );

  it('plain modules start every call fresh; state = "keep" carries it over', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "counter.wasm"), counter());
    const config = writeConfig(
      `[server]\npool_size = 1\n[[modules]]\nname = "fresh"\npath = "counter.wasm"\n` +
        `[[modules]]\nname = "kept"\npath = "counter.wasm"\nstate = "keep"\n[[modules.tools]]\nfunction_name = "next"\nname = "next_kept"\n`,
      dir,
    );
    const server = await connect(["serve", "--config", config]);
    try {
      const fresh: string[] = [];
      const kept: string[] = [];
      for (let i = 0; i < 3; i++) {
        fresh.push(textOf(await server.client.callTool({ name: "next", arguments: {} })));
        kept.push(textOf(await server.client.callTool({ name: "next_kept", arguments: {} })));
      }
      expect(fresh).toEqual(["1001", "1001", "1001"]);
      expect(kept).toEqual(["1001", "2002", "3003"]);
    } finally {
      await server.close();
    }
  });
});

describe("many quick calls with some cancelled", () => {
  it("every call not cancelled answers correctly; cancelled ones reject; nothing runs twice or hangs", async () => {
    // pool_size = 2: calls of one quick tool queue up and are handed to busy workers ahead of time.
    const config = writeConfig(["[server]\npool_size = 2\n", moduleEntry("math", "example.wasm")].join("\n"));
    const server = await connect(["serve", "--config", config, "--log-level", "warn"]);
    try {
      for (let i = 0; i < 200; i++) await server.client.callTool({ name: "add", arguments: { a: i, b: 1 } });
      for (let round = 0; round < 10; round++) {
        const controllers = Array.from({ length: 64 }, () => new AbortController());
        const calls = controllers.map((c, i) =>
          server.client.callTool({ name: "add", arguments: { a: i, b: round } }, CallToolResultSchema, { signal: c.signal }),
        );
        controllers.forEach((c, i) => i % 5 === 3 && setTimeout(() => c.abort(), 0));
        const settled = await Promise.allSettled(calls);
        settled.forEach((s, i) => {
          if (i % 5 === 3) return; // cancelled: may have answered first or been cancelled
          expect(s.status).toBe("fulfilled");
          if (s.status === "fulfilled") expect(textOf(s.value)).toBe(String(i + round));
        });
      }
      expect(textOf(await server.client.callTool({ name: "add", arguments: { a: 40, b: 2 } }))).toBe("42");
    } finally {
      await server.close();
    }
  });
});

describe("AssemblyScript modules built with asc's defaults", () => {
  it("load with env.abort and env.seed; an abort is a clear tool error", async () => {
    // "boom" as an AssemblyScript string: byte length at 12, UTF-16LE text from 16.
    const module = wat(`(module
      (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
      (import "env" "seed" (func $seed (result f64)))
      (memory (export "memory") 1)
      (data (i32.const 12) "\\08\\00\\00\\00b\\00o\\00o\\00m\\00")
      (func (export "check") (param $a i32) (param $b i32) (result i32)
        (if (i32.eqz (local.get $b)) (then (call $abort (i32.const 16) (i32.const 0) (i32.const 7) (i32.const 3))))
        (i32.div_s (local.get $a) (local.get $b)))
      (func (export "random") (result i32) (i32.trunc_f64_s (f64.min (call $seed) (f64.const 1000)))))`);
    const dir = tempDir();
    writeFileSync(join(dir, "as.wasm"), module);
    const server = await connect(["serve", "--config", writeConfig(`[[modules]]\nname = "as"\npath = "as.wasm"\n`, dir)]);
    try {
      expect(textOf(await server.client.callTool({ name: "check", arguments: { a: 9, b: 3 } }))).toBe("3");
      const failed = await server.client.callTool({ name: "check", arguments: { a: 9, b: 0 } });
      expect(failed.isError).toBe(true);
      expect(textOf(failed)).toMatch(/the module aborted: boom/);
      expect((await server.client.callTool({ name: "random", arguments: {} })).isError).toBeFalsy();
    } finally {
      await server.close();
    }
  });
});
