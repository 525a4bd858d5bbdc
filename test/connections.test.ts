// How connections begin and end, and what one client can do to another: half-closed input is
// answered in full, a last line without newline is answered, a peer that never reads cannot grow
// the server, an unfinished message that stalls is dropped, a log reader that goes away cannot make
// the server spin, and one client never sees another's calls.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { CLI, jsonLines, moduleEntry, ROOT, runCli, textOf, writeConfig } from "./helpers.js";
import { connectTcp, lineReader, openSocket, serveNetwork, tcpPort, type Served } from "./network.js";

const initialize = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
const sleepCall = (id: number, ms: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "sleep_ms", arguments: { ms } } });

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

describe("over TCP", () => {
  let server: Served;
  let port: number;
  beforeAll(async () => {
    const config = writeConfig(
      "[server]\nmessage_idle_ms = 1000\n" + moduleEntry("example", "example.wasm") + moduleEntry("slow", "faults/slow.wasm") + moduleEntry("fail", "fail-plugin.wasm"),
    );
    server = await serveNetwork(["-c", config, "--no-watch", "--tcp", "127.0.0.1:0", "--log-level", "debug"], [/tcp:\/\//]);
    port = tcpPort(server.stderr());
  });
  afterAll(() => server.stop());

  it("a connection that initialized, sent three calls and half-closed gets all three answers", async () => {
    const socket = await openSocket(port);
    const reader = lineReader(socket);
    socket.write(`${JSON.stringify(initialize)}\n`);
    expect(await reader.next()).toMatchObject({ id: 0, result: { serverInfo: { name: "wasmforge" } } });
    socket.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
    socket.end([sleepCall(1, 200), sleepCall(2, 100), sleepCall(3, 10)].map((m) => JSON.stringify(m)).join("\n") + "\n");
    const answers = [await reader.next(), await reader.next(), await reader.next()];
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3]);
    for (const a of answers) expect(a).toHaveProperty("result.content");
    await reader.closed;
  });

  it("the last line is answered without a trailing newline", async () => {
    const socket = await openSocket(port);
    const reader = lineReader(socket);
    socket.end(JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }));
    expect(await reader.next()).toMatchObject({ id: 9, result: { tools: expect.any(Array) } });
  });

  it("a client that sends requests and never reads the answers cannot grow the server", async () => {
    const before = rssKb(server.child.pid!);
    const socket = await openSocket(port);
    socket.pause(); // never reads
    const request = `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })}\n`;
    // 5 MB of requests: unread answers would take far more than this.
    const batch = request.repeat(Math.ceil((5 * 1024 * 1024) / request.length));
    socket.write(batch);
    // The server stops reading while its answers are unread: the write never completes.
    await expect.poll(() => socket.writableLength, { timeout: 15_000 }).toBeGreaterThan(0);
    const bystander = await connectTcp(port);
    expect(textOf(await bystander.client.callTool({ name: "add", arguments: { a: 2, b: 3 } }))).toBe("5");
    expect(rssKb(server.child.pid!) - before).toBeLessThan(200 * 1024);
    socket.destroy();
    await bystander.client.close();
  });

  it("one client never hears about another's calls; server-wide lines reach both", async () => {
    const watcher = await connectTcp(port);
    const caller = await connectTcp(port);
    const seen: string[] = [];
    watcher.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void seen.push(String(n.params.data)));
    const callerSaw: string[] = [];
    caller.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void callerSaw.push(String(n.params.data)));
    await watcher.client.setLoggingLevel("debug");
    await caller.client.setLoggingLevel("debug");
    const failed = await caller.client.callTool({ name: "always_fail", arguments: {} });
    expect(failed.isError).toBe(true);
    // The caller hears about its own call; the watcher, a moment later, has heard nothing of it.
    await expect.poll(() => callerSaw.some((l) => l.includes("call always_fail failed"))).toBe(true);
    expect(textOf(await watcher.client.callTool({ name: "add", arguments: { a: 1, b: 1 } }))).toBe("2");
    expect(seen.filter((l) => l.includes("always_fail"))).toEqual([]);
    await Promise.all([watcher.client.close(), caller.client.close()]);
  });

  it("a connection holding an unfinished message that stalls is closed", async () => {
    const socket = await openSocket(port);
    const reader = lineReader(socket);
    socket.write('{"jsonrpc":"2.0","id":1,"method":"tools/li');
    await reader.closed;
    expect(server.stderr()).toMatch(/closing the connection: an unfinished message sat idle for 1000 ms \(\[server\] message_idle_ms\)/);
  });
});

describe("over stdio", () => {
  it("when the reader of stderr goes away, serve keeps answering and exits 0 when stdin ends", async () => {
    // `serve 2>&1 >/dev/null | head -1`: stderr's reader reads one line, then goes away.
    const child = spawn(process.execPath, [CLI, "serve", "--log-level", "debug"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    await new Promise<void>((resolve) => child.stderr.once("data", () => resolve()));
    child.stderr.destroy();
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })}\n`);
    await expect.poll(() => stdout.includes('"id":1')).toBe(true);
    child.stdin.end(`${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "add", arguments: { a: 1, b: 2 } } })}\n`);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(jsonLines(stdout).map((m) => m.id)).toEqual([1, 2]);
  });

  it("SIGTERM from a supervisor that then closed the pipes: serve shuts down and exits 0", async () => {
    const child = spawn(process.execPath, [CLI, "serve"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    await new Promise<void>((resolve) => child.stderr.on("data", (chunk: Buffer) => chunk.toString().includes("serving") && resolve()));
    child.kill("SIGTERM");
    child.stdout.destroy();
    child.stderr.destroy();
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
  });

  it("a client that dies with answers unread: serve sees stdout fail and exits, though stdin never ends", async () => {
    const child = spawn(process.execPath, [CLI, "serve", "--log-level", "debug"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    // What is still being written to its stdin when it exits fails here: that is expected.
    child.stdin.on("error", () => undefined);
    // More answers than the pipe holds, none of them read: the server stops reading its input.
    child.stdout.pause();
    child.stdin.write(`${JSON.stringify(initialize)}\n`);
    const call = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "add", arguments: { a: id, b: 1 } } });
    child.stdin.write(`${Array.from({ length: 5000 }, (_, i) => call(i + 1)).join("\n")}\n`);
    // The client goes away without reading; its end of stdin stays open (a paused reader would
    // never see it close anyway).
    await expect.poll(() => stderr).toMatch(/serving \d+ tools/);
    child.stdout.destroy();
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/stdio: .*EPIPE|write EPIPE|EPIPE/);
  });

  it("the last line of piped input is answered without a trailing newline", async () => {
    const run = await runCli(["serve"], { input: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) });
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([expect.objectContaining({ id: 1, result: expect.objectContaining({ tools: expect.any(Array) }) })]);
  });
});
