// The newline transport (src/transports/line-transport.ts) over PassThrough streams: what it
// answers itself, what it hands on, when it closes, and when it stops reading.

import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { LineTransport, MODERN_REVISIONS, type LineTransportOptions } from "../../src/transports/line-transport.js";
import { lineReader } from "../network.js";

const request = (id: number, extra: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/list", ...extra });

/**
 * A started transport between two PassThrough streams, with what it handed on and how it ended.
 * Its output is read only once a test takes `replies`: until then it is a peer that reads nothing.
 */
async function open(options: Partial<LineTransportOptions> = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const received: JSONRPCMessage[] = [];
  const events: string[] = [];
  const transport = new LineTransport(input, output, {
    maxMessageBytes: 1024,
    onOversize: "skip",
    onProtocolError: (reason) => events.push(`protocol error: ${reason}`),
    afterClose: () => events.push("after close"),
    ...options,
  });
  transport.onmessage = (message) => received.push(message);
  transport.onclose = () => events.push("closed");
  await transport.start();
  let replies: ReturnType<typeof lineReader> | undefined;
  return {
    input,
    output,
    transport,
    received,
    events,
    get replies() {
      return (replies ??= lineReader(output));
    },
  };
}

describe("LineTransport", () => {
  it("a line that is not JSON gets -32700, and the next line is handed on", async () => {
    const { input, received, replies } = await open();
    input.write(`this is not json\n${request(1)}\n`);
    expect(await replies.next()).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error: /) } });
    await expect.poll(() => received).toEqual([{ jsonrpc: "2.0", id: 1, method: "tools/list" }]);
  });

  it("JSON that is not JSON-RPC gets -32600 with its id when it has one; a batch is refused", async () => {
    const { input, received, replies } = await open();
    input.write(`{"jsonrpc":"2.0","id":5}\n[${request(6)}]\n{"hello":"world"}\n`);
    expect(await replies.next()).toMatchObject({ id: 5, error: { code: -32600, message: "Invalid Request: not a JSON-RPC 2.0 request, notification or response" } });
    expect(await replies.next()).toMatchObject({ id: null, error: { code: -32600, message: "Invalid Request: batches are not supported" } });
    expect(await replies.next()).toMatchObject({ id: null, error: { code: -32600 } });
    expect(received).toEqual([]);
  });

  it('an oversize line is skipped with -32600 when onOversize is "skip", even across chunks, and reading goes on', async () => {
    const { input, received, replies, events } = await open({ maxMessageBytes: 100 });
    input.write(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":"${"x".repeat(200)}`);
    input.write(`${"y".repeat(200)}"}}\n${request(2)}\n`);
    expect(await replies.next()).toMatchObject({
      id: null,
      error: { code: -32600, message: "Invalid Request: message larger than the 100-byte limit ([server] max_message_kb); it was discarded" },
    });
    await expect.poll(() => received.map((m) => (m as { id: number }).id)).toEqual([2]);
    expect(events).toEqual([]);
  });

  it('an oversize line ends the connection when onOversize is "close", saying why', async () => {
    const { input, received, events, replies } = await open({ maxMessageBytes: 100, onOversize: "close" });
    input.write(`${request(1, { params: { pad: "x".repeat(200) } })}\n${request(2)}\n`);
    await expect.poll(() => events).toEqual(["protocol error: message larger than the 100-byte limit", "closed", "after close"]);
    input.write(`${request(3)}\n`);
    expect(received).toEqual([]);
    await expect(replies.next(50)).rejects.toThrow(/no message/);
  });

  it("a last line without a newline is read when the input ends", async () => {
    const { input, received } = await open();
    input.end(request(7));
    await expect.poll(() => received).toEqual([{ jsonrpc: "2.0", id: 7, method: "tools/list" }]);
  });

  it("at the end of input it answers every request it read before it closes", async () => {
    const { input, output, transport, received, events } = await open();
    let written = "";
    output.on("data", (chunk: Buffer) => (written += chunk.toString()));
    input.end(`${request(1)}\n${request(2)}\n`);
    await expect.poll(() => received).toHaveLength(2);
    // Input has ended, two requests are open: the transport waits for their answers.
    await transport.send({ jsonrpc: "2.0", id: 1, result: {} });
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
    await transport.send({ jsonrpc: "2.0", id: 2, result: {} });
    await expect.poll(() => events).toEqual(["closed", "after close"]);
    expect(written).toBe(`${JSON.stringify({ jsonrpc: "2.0", id: 1, result: {} })}\n${JSON.stringify({ jsonrpc: "2.0", id: 2, result: {} })}\n`);
  });

  it("a cancelled request no longer holds up the end of input", async () => {
    const { input, received, events } = await open();
    input.end(`${request(1)}\n${JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } })}\n`);
    await expect.poll(() => events).toEqual(["closed", "after close"]);
    expect(received).toHaveLength(2);
  });

  it("a request claiming a revision WasmForge does not serve gets -32022 naming the supported ones", async () => {
    const { input, received, replies } = await open();
    const claim = (revision: string) => ({ params: { _meta: { "io.modelcontextprotocol/protocolVersion": revision } } });
    input.write(`${request(1, claim("2099-01-01"))}\n${request(2, claim(MODERN_REVISIONS[0]!))}\n`);
    expect(await replies.next()).toEqual({
      jsonrpc: "2.0",
      id: 1,
      error: { code: -32022, message: "Unsupported protocol version: 2099-01-01", data: { supported: MODERN_REVISIONS, requested: "2099-01-01" } },
    });
    await expect.poll(() => received.map((m) => (m as { id: number }).id)).toEqual([2]);
  });

  it("stops reading while its answers pile up unread, and reads on once they are taken", async () => {
    const { input, output, transport, received } = await open();
    input.write(`${request(1)}\n`);
    await expect.poll(() => received).toHaveLength(1);
    // Nobody reads the output: over a megabyte of answer waits in it.
    await Promise.race([transport.send({ jsonrpc: "2.0", id: 1, result: { pad: "x".repeat(2 * 1024 * 1024) } }), new Promise((resolve) => setImmediate(resolve))]);
    expect(input.isPaused()).toBe(true);
    input.write(`${request(2)}\n`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toHaveLength(1);
    output.resume(); // the peer reads again
    await expect.poll(() => received.map((m) => (m as { id: number }).id)).toEqual([1, 2]);
    expect(input.isPaused()).toBe(false);
  });
});

describe("lineReader (test/network.ts)", () => {
  it("a next() that gave up does not swallow the message that comes after it", async () => {
    const stream = new PassThrough();
    const reader = lineReader(stream);
    await expect(reader.next(10)).rejects.toThrow(/no message/);
    stream.write(`${request(1)}\n`);
    expect(await reader.next()).toMatchObject({ id: 1 });
  });
});
