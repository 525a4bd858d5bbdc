// Bounded, isolated calls: no module can hang, crash or starve the server.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { heldModule, startGate } from "./gate.js";
import { connect, jsonLines, moduleEntry, runCli, startCall, tempDir, textOf, withServer, writeConfig, type Connected } from "./helpers.js";
import { wat } from "./wat.js";

describe("fault modules", () => {
  let server: Connected;
  beforeAll(async () => {
    const dir = tempDir();
    const faults = [
      "[server]\ntimeout_ms = 5000\n",
      moduleEntry("loop", "faults/loop.wasm", "timeout_ms = 300"),
      moduleEntry("trap", "faults/trap.wasm"),
      moduleEntry("bomb", "faults/membomb.wasm", "max_memory_mb = 16"),
      moduleEntry("strings", "faults/bad-strings.wasm", '[[modules.tools]]\nfunction_name = "huge"\npattern = "no_params_to_string"\n'),
      moduleEntry("math", "example.wasm"),
      heldModule(dir),
    ];
    server = await connect(["serve", "--config", writeConfig(faults.join("\n"), dir)]);
  });
  afterAll(() => server.close());

  it("an endless loop ends at its deadline with a timeout error", async () => {
    const result = await server.client.callTool({ name: "spin", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('tool "spin" failed: timed out after 300 ms');
  });

  it("the timed-out module serves its next call", async () => {
    expect(textOf(await server.client.callTool({ name: "ok", arguments: {} }))).toBe("1");
  });

  it("a module whose call does not return holds up no other module", async () => {
    const gate = await startGate();
    try {
      const held = startCall(server.client, "fetch", { url: gate.url });
      await held.running;
      await expect.poll(() => gate.waiting()).toBe(1);
      expect(textOf(await server.client.callTool({ name: "add", arguments: { a: 2, b: 2 } }))).toBe("4");
      // The held call is still running: only now may it finish.
      expect(gate.waiting()).toBe(1);
      gate.open("done");
      expect(textOf(await held.result)).toBe("done");
    } finally {
      await gate.close();
    }
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

  it("two calls run in parallel: both are running before either finishes", async () => {
    const gate = await startGate();
    try {
      const calls = [startCall(server.client, "fetch", { url: gate.url }), startCall(server.client, "fetch", { url: gate.url })];
      // Neither can finish before the gate opens, and the gate opens only once both are waiting at it.
      await Promise.all(calls.map((c) => c.running));
      await expect.poll(() => gate.waiting()).toBe(2);
      gate.open("both");
      expect((await Promise.all(calls.map((c) => c.result))).map(textOf)).toEqual(["both", "both"]);
    } finally {
      await gate.close();
    }
  });

  it("a call with a progress token hears when it arrives, when it runs and when it is done, before its answer", async () => {
    // Read off the wire: the v1 client drops progress that arrives in the same read as the answer.
    const call = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "add", arguments: { a: 20, b: 30 }, _meta: { progressToken: "p1" } } };
    const { code, stdout } = await runCli(["serve", "--config", writeConfig(moduleEntry("math", "example.wasm")), "--no-watch"], { input: `${JSON.stringify(call)}\n` });
    expect(code).toBe(0);
    expect(jsonLines(stdout)).toEqual([
      { jsonrpc: "2.0", method: "notifications/progress", params: { progress: 0, total: 1, progressToken: "p1" } },
      { jsonrpc: "2.0", method: "notifications/progress", params: { progress: 0.5, total: 1, message: "running", progressToken: "p1" } },
      { jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1, total: 1, progressToken: "p1" } },
      { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "50" }], structuredContent: { result: 50 } } },
    ]);
  });
});

describe("one worker", () => {
  it("a cancelled call ends its worker: the only slot serves the next call, and the cancelled module serves again", async () => {
    // The loop never ends by itself here: with one worker, anything after it runs only if cancelling ended that worker.
    const config = writeConfig(["[server]\npool_size = 1\n", moduleEntry("loop", "faults/loop.wasm", "timeout_ms = 600000"), moduleEntry("math", "example.wasm")].join("\n"));
    await withServer(["serve", "--config", config, "--log-level", "debug"], async (server) => {
      const controller = new AbortController();
      const spin = startCall(server.client, "spin", {}, { signal: controller.signal });
      await spin.running;
      controller.abort("user pressed stop");
      await expect(spin.result).rejects.toThrow();
      expect(textOf(await server.client.callTool({ name: "add", arguments: { a: 1, b: 1 } }))).toBe("2");
      expect(textOf(await server.client.callTool({ name: "ok", arguments: {} }))).toBe("1");
      await expect.poll(() => server.stderr()).toContain("call spin failed (cancelled)");
    });
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
    await withServer(["serve", "--config", config], async (server) => {
      const fresh: string[] = [];
      const kept: string[] = [];
      for (let i = 0; i < 3; i++) {
        fresh.push(textOf(await server.client.callTool({ name: "next", arguments: {} })));
        kept.push(textOf(await server.client.callTool({ name: "next_kept", arguments: {} })));
      }
      expect(fresh).toEqual(["1001", "1001", "1001"]);
      expect(kept).toEqual(["1001", "2002", "3003"]);
    });
  });
});

describe("many quick calls with some cancelled", () => {
  // note(a, b) prints "ran A:B" on its stdout (which the server logs) and returns a + b: every time
  // it runs leaves a line, so a call that ran twice shows.
  const noting = (): Uint8Array =>
    wat(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      ;; Writes the decimal digits of $n just before $end; returns where they start.
      (func $digits (param $n i32) (param $end i32) (result i32)
        (loop $next
          (local.set $end (i32.sub (local.get $end) (i32.const 1)))
          (i32.store8 (local.get $end) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
          (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
          (br_if $next (local.get $n)))
        (local.get $end))
      (func (export "note") (param $a i32) (param $b i32) (result i32)
        (local $start i32)
        (i32.store8 (i32.const 255) (i32.const 10))
        (local.set $start (i32.sub (call $digits (local.get $b) (i32.const 255)) (i32.const 1)))
        (i32.store8 (local.get $start) (i32.const 58))
        (local.set $start (i32.sub (call $digits (local.get $a) (local.get $start)) (i32.const 4)))
        (i32.store (local.get $start) (i32.const 0x206e6172))
        (i32.store (i32.const 0) (local.get $start))
        (i32.store (i32.const 4) (i32.sub (i32.const 256) (local.get $start)))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (i32.add (local.get $a) (local.get $b))))`);

  it("every call not cancelled answers correctly and ran once; cancelled ones reject and ran at most once; nothing hangs", async () => {
    // pool_size = 2: calls of one quick tool queue up and are handed to busy workers ahead of time.
    const dir = tempDir();
    writeFileSync(join(dir, "note.wasm"), noting());
    const config = writeConfig(`[server]\npool_size = 2\n[[modules]]\nname = "note"\npath = "note.wasm"\n`, dir);
    await withServer(["serve", "--config", config, "--no-watch"], async (server) => {
      const runs = () => {
        const counts = new Map<string, number>();
        for (const [, a, b] of server.stderr().matchAll(/module output: ran (\d+):(\d+)/g)) counts.set(`${a}:${b}`, (counts.get(`${a}:${b}`) ?? 0) + 1);
        return counts;
      };
      for (let i = 0; i < 200; i++) expect(textOf(await server.client.callTool({ name: "note", arguments: { a: i, b: 1000 } }))).toBe(String(i + 1000));
      const cancelled = new Set<string>();
      for (let round = 0; round < 10; round++) {
        const controllers = Array.from({ length: 64 }, () => new AbortController());
        const calls = controllers.map((c, i) =>
          server.client.callTool({ name: "note", arguments: { a: i, b: round } }, CallToolResultSchema, { signal: c.signal }),
        );
        controllers.forEach((c, i) => {
          if (i % 5 !== 3) return;
          cancelled.add(`${i}:${round}`);
          setTimeout(() => c.abort(), 0);
        });
        const settled = await Promise.allSettled(calls);
        settled.forEach((s, i) => {
          if (i % 5 === 3) return; // cancelled: may have answered first or been cancelled
          expect(s.status).toBe("fulfilled");
          if (s.status === "fulfilled") expect(textOf(s.value)).toBe(String(i + round));
        });
      }
      // The last call's line comes after every line of the calls before it.
      expect(textOf(await server.client.callTool({ name: "note", arguments: { a: 4000, b: 2 } }))).toBe("4002");
      await expect.poll(() => runs().get("4000:2")).toBe(1);
      const counts = runs();
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < 64; i++) {
          const key = `${i}:${round}`;
          const ran = counts.get(key) ?? 0;
          if (cancelled.has(key)) expect(ran, `cancelled call ${key} ran ${ran} times`).toBeLessThanOrEqual(1);
          else expect(ran, `call ${key} ran ${ran} times`).toBe(1);
        }
      }
      for (let i = 0; i < 200; i++) expect(counts.get(`${i}:1000`)).toBe(1);
    });
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
    await withServer(["serve", "--config", writeConfig(`[[modules]]\nname = "as"\npath = "as.wasm"\n`, dir)], async (server) => {
      expect(textOf(await server.client.callTool({ name: "check", arguments: { a: 9, b: 3 } }))).toBe("3");
      const failed = await server.client.callTool({ name: "check", arguments: { a: 9, b: 0 } });
      expect(failed.isError).toBe(true);
      expect(textOf(failed)).toMatch(/the module aborted: boom/);
      expect((await server.client.callTool({ name: "random", arguments: {} })).isError).toBeFalsy();
    });
  });
});
