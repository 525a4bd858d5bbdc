// Metered calls, through the built CLI: quick calls run on the protocol thread, a call that outruns
// its time slice there runs again in a worker (once, with one set of log lines), a runaway module
// never holds the protocol thread, and a metered call stops itself at its deadline without
// costing a worker.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { CLI, moduleEntry, textOf, writeConfig } from "./helpers.js";
import { POST_MVP, watFile } from "./wat.js";

/** busy(n) writes one line through WASI, then counts to n: quick for small n, long for large. */
const BUSY = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "counting\\n")
  (global $calls (mut i32) (i32.const 0))
  (func (export "busy") (param $n i32) (result i32) (local $i i32)
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 9))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
    (loop $next
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))`;

describe("metered calls", () => {
  let client: Client;
  let other: Client;
  let stderr = "";
  const logs: string[] = [];

  beforeAll(async () => {
    const config = writeConfig(
      "[server]\npool_size = 2\n" +
        moduleEntry("busy", watFile(BUSY, { features: POST_MVP })) +
        moduleEntry("loop", "faults/loop.wasm", "timeout_ms = 1500\n") +
        moduleEntry("example", "example.wasm"),
    );
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "serve", "--config", config, "--no-watch", "--tcp", "127.0.0.1:0", "--stdio", "--log-level", "debug"], stderr: "pipe" });
    let listening: () => void = () => undefined;
    const listened = new Promise<void>((resolve) => (listening = resolve));
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/tcp:\/\/127\.0\.0\.1:\d+/.test(stderr)) listening();
    });
    client = new Client({ name: "metering", version: "1" });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)));
    await client.connect(transport);
    await client.setLoggingLevel("info");
    await listened;
    const port = Number(/tcp:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
    const { connectTcp } = await import("./network.js");
    other = (await connectTcp(port)).client;
  });
  afterAll(async () => {
    await other.close();
    await client.close();
  });

  it("a call that outruns its slice on the protocol thread runs again in a worker: one result, one set of log lines", async () => {
    logs.length = 0;
    // ~hundreds of millions of instructions: far past the protocol thread's slice.
    const result = await client.callTool({ name: "busy", arguments: { n: 300_000_000 } });
    expect(textOf(result)).toBe("300000000");
    await expect.poll(() => logs.filter((l) => l.includes("module output: counting")).length).toBe(1);
    // A quick call of the same module afterwards is answered as well.
    expect(textOf(await client.callTool({ name: "busy", arguments: { n: 10 } }))).toBe("10");
  });

  it("while a runaway call spins, another client's quick calls are all answered before it times out", async () => {
    const order: string[] = [];
    const spin = client.callTool({ name: "spin", arguments: {} }).then((r) => {
      order.push("spin");
      return r;
    });
    for (let i = 0; i < 200; i++) expect(textOf(await other.callTool({ name: "add", arguments: { a: i, b: 1 } }))).toBe(String(i + 1));
    order.push("adds");
    const spun = await spin;
    expect(order).toEqual(["adds", "spin"]);
    expect(spun.isError).toBe(true);
    expect(textOf(spun)).toContain("timed out after 1500 ms");
  });

  it("a metered call stops itself at its deadline: its worker is not ended, and the module serves again", async () => {
    const before = (stderr.match(/ended a worker/g) ?? []).length;
    const spun = await client.callTool({ name: "spin", arguments: {} });
    expect(textOf(spun)).toContain("timed out after 1500 ms");
    expect(textOf(await client.callTool({ name: "ok", arguments: {} }))).toBe("1");
    expect((stderr.match(/ended a worker/g) ?? []).length).toBe(before);
  });
});
