// What a module can take, and what it can leave behind for the next call: each limit through the
// built CLI, with modules written for the purpose.

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { CLI, moduleEntry, runCli, textOf, writeConfig } from "./helpers.js";
import { POST_MVP, watFile } from "./wat.js";

/** A table a call can rewrite and grow; nothing else changes between calls. */
const TABLES = `(module
  (type $r (func (result i32)))
  (table $t 2 funcref)
  (elem (i32.const 0) $one $two)
  (elem declare func $evil)
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $evil (result i32) (i32.const 666))
  (func (export "slot0") (result i32) (call_indirect (type $r) (i32.const 0)))
  (func (export "overwrite") (result i32) (table.set $t (i32.const 0) (ref.func $evil)) (i32.const 0))
  (func (export "grow_table") (result i32) (drop (table.grow $t (ref.null func) (i32.const 1))) (table.size $t))
  (func (export "table_size") (result i32) (table.size $t)))`;

/** A passive data segment a call copies in and then drops. */
const SEGMENTS = `(module
  (memory (export "memory") 1)
  (data $greeting "hello")
  (func (export "init_and_drop") (result i32)
    (memory.init $greeting (i32.const 0) (i32.const 0) (i32.const 5))
    (data.drop $greeting)
    (i32.load8_u (i32.const 0))))`;

const EXTISM_IMPORTS = `
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)`;

/** Extism plugins that try to take more than they may: host-side blocks, error text, log volume. */
const GREEDY = `(module ${EXTISM_IMPORTS}
  ;; 150 blocks of 15 MiB
  (func (export "block_bomb") (result i32) (local $i i32)
    (loop $next
      (drop (call $alloc (i64.const 15728640)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 150))))
    (i32.const 0))
  ;; a 10 MiB error message
  (func (export "huge_error") (result i32)
    (call $error_set (call $alloc (i64.const 10485760)))
    (i32.const 1))
  ;; 50 log lines of 1 MiB each
  (func (export "log_flood") (result i32) (local $i i32) (local $line i64)
    (local.set $line (call $alloc (i64.const 1048576)))
    (loop $next
      (call $log_info (local.get $line))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 50))))
    (i32.const 0)))`;

const RECURSION = `(module (func $down (export "recurse") (result i32) (i32.add (call $down) (i32.const 1))))`;

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

describe("limits and state, through serve", () => {
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = "";
  const logs: string[] = [];

  beforeAll(async () => {
    const config = writeConfig(
      moduleEntry("tables", watFile(TABLES, { features: POST_MVP })) +
        moduleEntry("segments", watFile(SEGMENTS, { features: POST_MVP })) +
        moduleEntry("greedy", watFile(GREEDY, { features: POST_MVP }), "max_memory_mb = 16\n") +
        moduleEntry("recursion", watFile(RECURSION, { features: POST_MVP })) +
        moduleEntry("example", "example.wasm") +
        "[server]\nmax_output_mb = 1\n",
    );
    transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "serve", "--config", config, "--no-watch"], stderr: "pipe" });
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    client = new Client({ name: "limits-test", version: "1" });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)));
    await client.connect(transport);
    await client.setLoggingLevel("info");
  });
  afterAll(() => client.close());

  const call = (name: string, args: Record<string, unknown> = {}) => client.callTool({ name, arguments: args });

  it("fresh state puts tables back: a slot written and a table grown by one call are not seen by the next", async () => {
    await call("overwrite");
    expect(textOf(await call("slot0"))).toBe("1");
    expect(textOf(await call("grow_table"))).toBe("3");
    expect(textOf(await call("table_size"))).toBe("2");
  });

  it("fresh state after a dropped data segment: the next call still has the segment", async () => {
    expect(textOf(await call("init_and_drop"))).toBe("104");
    expect(textOf(await call("init_and_drop"))).toBe("104");
  });

  it("an Extism plugin's memory blocks count against max_memory_mb, and the server stays small", async () => {
    const result = await call("block_bomb");
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/memory limit reached: the plugin's block of 15 MiB would bring its memory blocks to 30 MiB, over its 16 MiB \(max_memory_mb\)/);
    // Without the cap the server took 2.3 GB here; with it, one 15 MiB block is ever held.
    expect(rssKb(transport.pid!)).toBeLessThan(400 * 1024);
    expect(textOf(await call("add", { a: 1, b: 1 }))).toBe("2");
  });

  it("a plugin's error message is cut, with a marker, not passed on whole", async () => {
    const result = await call("huge_error");
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text.length).toBeLessThan(70 * 1024);
    expect(text).toMatch(/more characters cut: over the limit/);
  });

  it("a plugin's log volume is cut per line and per call, on stderr and to the client", async () => {
    const before = stderr.length;
    logs.length = 0;
    expect((await call("log_flood")).isError).toBeFalsy();
    await expect.poll(() => logs.some((l) => l.includes("log output of this call cut at 64 KiB"))).toBe(true);
    await expect.poll(() => stderr.includes("log output of this call cut at 64 KiB")).toBe(true);
    expect(stderr.length - before).toBeLessThan(200 * 1024);
    expect(logs.join("").length).toBeLessThan(200 * 1024);
  });

  it("deep recursion is a stack overflow, not a memory limit", async () => {
    const result = await call("recurse");
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/stack overflow/);
    expect(textOf(result)).not.toMatch(/memory limit/);
  });

  it("64-bit integers stay exact: results beyond 2^53 in text and structuredContent, arguments as strings", async () => {
    const fib80 = await call("fib", { n: 80 });
    expect(textOf(fib80)).toBe("23416728348467685");
    expect(fib80.structuredContent).toEqual({ result: "23416728348467685" });
    const fib92 = await call("fib", { n: "92" });
    expect(textOf(fib92)).toBe("7540113804746346429");
    expect((await call("fib", { n: 10 })).structuredContent).toEqual({ result: 55 });
    const outOfRange = await call("fib", { n: "92233720368547758070" });
    expect(outOfRange.isError).toBe(true);
  });
});

describe("limits in the config", () => {
  it("out-of-range limits are config errors naming the key and the bound", async () => {
    const config = writeConfig(`[server]\ntimeout_ms = 2147483648\nmax_memory_mb = 5000\n\n${moduleEntry("example", "example.wasm")}`);
    const run = await runCli(["tools", "--config", config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/server\.timeout_ms: expected at most 2147483647/);
    expect(run.stderr).toMatch(/server\.max_memory_mb: expected at most 4096: a 32-bit WebAssembly memory holds at most 4 GiB/);
  });
});
