// `wasmforge serve --tcp`: real sockets on 127.0.0.1, one MCP session per connection.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heldModule, startGate } from "./gate.js";
import { jsonLines, moduleEntry, runCli, startCall, tempDir, textOf, writeConfig } from "./helpers.js";
import { connectTcp, lineReader, openSocket, serveNetwork, stopDuringCall, tcpPort, type Served } from "./network.js";

// pool_size = 2: a module may use one worker, so a call that never ends blocks its module's next call.
const dir = tempDir();
const config = writeConfig(
  `[server]\npool_size = 2\nmax_message_kb = 1\n\n${moduleEntry("example", "example.wasm")}${moduleEntry("slow", "faults/slow.wasm")}` +
    `${moduleEntry("loop", "faults/loop.wasm", "timeout_ms = 600000")}${heldModule(dir)}`,
  dir,
);

describe("serve --tcp", () => {
  let server: Served;
  let port: number;

  beforeAll(async () => {
    server = await serveNetwork(["-c", config, "--no-watch", "--log-level", "debug", "--tcp", "0"], [/tcp:\/\/127\.0\.0\.1:\d+/]);
    port = tcpPort(server.stderr());
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it("prints one tcp:// line with the real port", () => {
    expect(server.stderr().match(/tcp:\/\//g)).toHaveLength(1);
    expect(port).toBeGreaterThan(0);
  });

  it("20 concurrent connections each making 50 calls all get their own correct answers", async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => connectTcp(port)));
    const results = await Promise.all(
      clients.map(({ client }, i) =>
        Promise.all(Array.from({ length: 50 }, (_, j) => client.callTool({ name: "add", arguments: { a: i * 1000, b: j } }).then(textOf))),
      ),
    );
    results.forEach((answers, i) => expect(answers).toEqual(Array.from({ length: 50 }, (_, j) => String(i * 1000 + j))));
    await Promise.all(clients.map(({ client }) => client.close()));
  });

  it("a garbage line gets a -32700 parse error and the same connection then answers a valid call", async () => {
    const socket = await openSocket(port);
    const reader = lineReader(socket);
    socket.write("this is not json\n");
    socket.write(`${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "add", arguments: { a: 2, b: 3 } } })}\n`);
    const first = await reader.next();
    expect(first).toMatchObject({ id: null, error: { code: -32700 } });
    const second = await reader.next();
    expect(second).toMatchObject({ id: 2, result: { content: [{ type: "text", text: "5" }] } });
    socket.destroy();
  });

  it("a client that half-closes after its requests (echo | nc) gets every answer, then the server ends the connection", async () => {
    const socket = await openSocket(port);
    const reader = lineReader(socket);
    const list = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const slow = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "sleep_ms", arguments: { ms: 200 } } });
    socket.end(`${list}\n${slow}\n`);
    const replies = [await reader.next(), await reader.next()].sort((x, y) => Number(x.id) - Number(y.id));
    const names = (replies[0]!.result as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(names).toContain("add");
    expect(replies[1]).toMatchObject({ id: 2, result: { content: [{ type: "text", text: "200" }] } });
    await reader.closed;
  });

  it("a client vanishing mid-call (its connection reset) harms nothing else: its call is cancelled, others are answered", async () => {
    const other = await connectTcp(port);
    const leaving = await connectTcp(port);
    const abandoned = startCall(leaving.client, "spin");
    await abandoned.running;
    leaving.socket.resetAndDestroy();
    await expect(abandoned.result).rejects.toThrow(/Connection closed/);
    await expect.poll(() => server.stderr()).toMatch(/call spin failed \(cancelled\)/);
    for (let i = 0; i < 10; i++) {
      expect(textOf(await other.client.callTool({ name: "add", arguments: { a: i, b: 1 } }))).toBe(String(i + 1));
    }
    // The loop never ends by itself and its module may use one worker: this runs only if the abandoned call's worker was ended.
    expect(textOf(await other.client.callTool({ name: "ok", arguments: {} }))).toBe("1");
    const fresh = await connectTcp(port);
    expect(textOf(await fresh.client.callTool({ name: "add", arguments: { a: 40, b: 2 } }))).toBe("42");
    await Promise.all([other.client.close(), fresh.client.close()]);
  });

  it("an oversize message closes only that connection, with a logged reason", async () => {
    const bystander = await connectTcp(port);
    const socket = await openSocket(port);
    const reader = lineReader(socket);
    socket.write(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":"${"x".repeat(4000)}"}}\n`);
    await reader.closed;
    await expect.poll(() => server.stderr()).toMatch(/closing the connection: message larger than the 1024-byte limit/);
    expect(textOf(await bystander.client.callTool({ name: "add", arguments: { a: 1, b: 1 } }))).toBe("2");
    await bystander.client.close();
  });

  it("a connection that opens with an HTTP request is closed without running anything", async () => {
    const socket = await openSocket(port);
    const reader = lineReader(socket);
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "add", arguments: { a: 1, b: 2 } } });
    socket.write(`POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n\r\n${body}\n`);
    await reader.closed;
    await expect(reader.next(100)).rejects.toThrow(/no message/);
    await expect.poll(() => server.stderr()).toMatch(/sent an HTTP request/);
  });
});

describe("serve --tcp, one process at a time", () => {
  it("SIGTERM finishes the call in flight, closes the connection and exits 0", async () => {
    const gate = await startGate();
    const server = await serveNetwork(["-c", config, "--no-watch", "--tcp", "0"], [/tcp:\/\//]);
    try {
      const { client, socket } = await connectTcp(tcpPort(server.stderr()));
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      expect(await stopDuringCall(server, startCall(client, "fetch", { url: gate.url }), gate)).toBe("finished");
      await closed;
      expect(await server.exited).toBe(0);
    } finally {
      await server.stop();
      await gate.close();
    }
  });

  it("stdio and TCP serve together; closing stdin leaves TCP serving", async () => {
    const server = await serveNetwork(["-c", config, "--no-watch", "--tcp", "0", "--stdio"], [/tcp:\/\//]);
    const tcp = await connectTcp(tcpPort(server.stderr()));
    let stdout = "";
    server.child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    // Half-closing stdin after the request: stdio answers it, and TCP keeps serving.
    server.child.stdin!.end(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "add", arguments: { a: 1, b: 2 } } })}\n`);
    await expect.poll(() => server.stderr(), { timeout: 5000 }).toMatch(/stdin closed; still serving/);
    expect(jsonLines(stdout)).toMatchObject([{ id: 1, result: { content: [{ text: "3" }] } }]);
    expect(textOf(await tcp.client.callTool({ name: "add", arguments: { a: 5, b: 6 } }))).toBe("11");
    await tcp.client.close();
    expect(await server.stop()).toBe(0);
  });

  it("a non-loopback address without --allow-remote refuses to start", async () => {
    const result = await runCli(["serve", "-c", config, "--no-watch", "--tcp", "0.0.0.0:0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to listen on tcp:\/\/0\.0\.0\.0:0.*--allow-remote/);
  });

  it("a malformed address is refused with the expected form", async () => {
    const result = await runCli(["serve", "-c", config, "--no-watch", "--tcp", "localhost"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/expected \[HOST:\]PORT/);
  });
});
