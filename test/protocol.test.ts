// Both protocol eras on every transport, through the built CLI: a v2 Client pinned to 2026-07-28 and
// a v1 Client (2025-11-25) over stdio, TCP and HTTP list and call a plain and an Extism tool, hear
// a config change (subscriptions/listen, or list_changed), and answer a plugin's question.

import { writeFileSync } from "node:fs";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { connectEra, MODERN, type Where } from "./clients.js";
import { moduleEntry, tempDir, textOf, writeConfig } from "./helpers.js";
import { serveNetwork, tcpPort, type Served } from "./network.js";

const HTTP_LINE = /http:\/\/127\.0\.0\.1:\d+\/mcp/;
const BASE = moduleEntry("example", "example.wasm") + moduleEntry("text-plugin", "text-plugin.wasm") + moduleEntry("ask", "ask-plugin.wasm");
const ADDED = moduleEntry("text", "text.wasm");

type Kind = "stdio" | "tcp" | "http";

/** One server (TCP, HTTP) or one command line per client (stdio), with its own config file. */
async function start(kind: Kind): Promise<{ where: Where; file: string; stop: () => Promise<void> }> {
  const file = writeConfig(BASE, tempDir());
  if (kind === "stdio") return { where: { stdio: ["serve", "--config", file] }, file, stop: async () => undefined };
  const flag = kind === "tcp" ? ["--tcp", "127.0.0.1:0"] : ["--http", "0"];
  const served: Served = await serveNetwork(["-c", file, ...flag], [kind === "tcp" ? /tcp:\/\// : HTTP_LINE], { WASMFORGE_TOKEN: "" });
  const where: Where = kind === "tcp" ? { tcp: tcpPort(served.stderr()) } : { http: new URL(HTTP_LINE.exec(served.stderr())![0]) };
  return { where, file, stop: async () => void (await served.stop()) };
}

describe.each<Kind>(["stdio", "tcp", "http"])("%s", (kind) => {
  let server: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    server = await start(kind);
  });
  afterAll(() => server.stop());

  it("a 2026-07-28 client lists and calls a plain and an Extism tool", async () => {
    const { client } = await connectEra("2026", server.where);
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
      const listed = await client.listTools();
      expect(listed.tools.map((t) => t.name)).toEqual(expect.arrayContaining(["add", "count_vowels", "greet_user"]));
      expect(listed).toMatchObject({ ttlMs: 5000, cacheScope: "public" });
      expect(textOf(await client.callTool({ name: "add", arguments: { a: 20, b: 22 } }))).toBe("42");
      expect(JSON.parse(textOf(await client.callTool({ name: "count_vowels", arguments: { text: "WebAssembly" } })))).toEqual({ count: 3, text: "WebAssembly" });
    } finally {
      await client.close();
    }
  });

  it("a 2025 client lists and calls a plain and an Extism tool", async () => {
    const { client } = await connectEra("2025", server.where);
    try {
      expect(client.getServerVersion()?.name).toBe("wasmforge");
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(["add", "count_vowels"]));
      expect(textOf(await client.callTool({ name: "add", arguments: { a: 1, b: 2 } }))).toBe("3");
      expect(JSON.parse(textOf(await client.callTool({ name: "count_vowels", arguments: { text: "aeiou" } })))).toMatchObject({ count: 5 });
    } finally {
      await client.close();
    }
  });

  it("a plugin's question reaches the client and its answer the plugin, in both eras; without the capability it is refused", async () => {
    const modern = await connectEra("2026", server.where, { elicitation: { form: {} } });
    modern.client.setRequestHandler("elicitation/create", async (req) => {
      expect(req.params.message).toBe("What is your name?");
      return { action: "accept", content: { name: "Ada" } };
    });
    const legacy = await connectEra("2025", server.where, { elicitation: {} });
    legacy.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: { name: "Grace" } }));
    const bare = await connectEra("2026", server.where);
    const bareLegacy = await connectEra("2025", server.where);
    try {
      expect(textOf(await modern.client.callTool({ name: "greet_user", arguments: {} }))).toBe("Hello, Ada! Nice to meet you.");
      expect(textOf(await legacy.client.callTool({ name: "greet_user", arguments: {} }))).toBe("Hello, Grace! Nice to meet you.");
      await expect(bare.client.callTool({ name: "greet_user", arguments: {} })).rejects.toMatchObject({ code: -32021 });
      const refused = await bareLegacy.client.callTool({ name: "greet_user", arguments: {} });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/did not declare the required capability/);
    } finally {
      await Promise.all([modern.client.close(), legacy.client.close(), bare.client.close(), bareLegacy.client.close()]);
    }
  });

  it("a config change reaches a 2026 client through subscriptions/listen and a 2025 client through list_changed", async () => {
    const modern = await connectEra("2026", server.where);
    const legacy = await connectEra("2025", server.where);
    try {
      const heardModern = new Promise<void>((resolve) => modern.client.setNotificationHandler("notifications/tools/list_changed", () => resolve()));
      const heardLegacy = new Promise<void>((resolve) => legacy.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      const subscription = await modern.client.listen({ toolsListChanged: true });
      expect(subscription.honoredFilter).toMatchObject({ toolsListChanged: true });
      // The 2025 HTTP client hears notifications on its GET stream, opened just after it connected.
      await legacy.listening;
      writeFileSync(server.file, BASE + ADDED);
      await Promise.all([heardModern, heardLegacy]);
      expect((await modern.client.listTools(undefined, { cacheMode: "refresh" })).tools.map((t) => t.name)).toContain("count_words");
      expect((await legacy.client.listTools()).tools.map((t) => t.name)).toContain("count_words");
      await subscription.close();
    } finally {
      writeFileSync(server.file, BASE);
      await Promise.all([modern.client.close(), legacy.client.close()]);
    }
  });
});

describe("stateless HTTP (2026-07-28)", () => {
  let served: Served;
  let url: URL;
  beforeAll(async () => {
    served = await serveNetwork(["-c", writeConfig(BASE), "--no-watch", "--http", "0"], [HTTP_LINE], { WASMFORGE_TOKEN: "" });
    url = new URL(HTTP_LINE.exec(served.stderr())![0]);
  });
  afterAll(() => served.stop());

  const envelope = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": { name: "curl", version: "1" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
  const post = (body: unknown, headers: Record<string, string>) =>
    new Promise<{ status: number; sessionId?: string; body: string }>((resolve, reject) => {
      const req = request(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers } }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, sessionId: res.headers["mcp-session-id"] as string | undefined, body: text }));
      });
      req.on("error", reject);
      req.end(JSON.stringify(body));
    });
  const call = { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "add", arguments: { a: 2, b: 5 }, _meta: envelope } };

  it("a lone tools/call POST with no session is answered, and creates no session", async () => {
    const answer = await post(call, { "mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": "add" });
    expect(answer.status).toBe(200);
    expect(answer.sessionId).toBeUndefined();
    expect(JSON.parse(answer.body)).toMatchObject({ id: 7, result: { content: [{ type: "text", text: "7" }], resultType: "complete" } });
  });

  it("headers that disagree with the body are refused with 400 and -32020", async () => {
    const mismatch = await post(call, { "mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": "count_vowels" });
    expect(mismatch.status).toBe(400);
    expect(JSON.parse(mismatch.body)).toMatchObject({ error: { code: -32020 } });
  });

  it("an unknown method is -32601 with HTTP 404; an unsupported revision names the supported one", async () => {
    const unknown = await post({ jsonrpc: "2.0", id: 8, method: "nope/nothing", params: { _meta: envelope } }, { "mcp-protocol-version": MODERN, "mcp-method": "nope/nothing" });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: { code: -32601 } });
    const future = { ...envelope, "io.modelcontextprotocol/protocolVersion": "2099-01-01" };
    const unsupported = await post({ ...call, params: { ...call.params, _meta: future } }, { "mcp-protocol-version": "2099-01-01", "mcp-method": "tools/call", "mcp-name": "add" });
    expect(unsupported.status).toBe(400);
    expect(JSON.parse(unsupported.body)).toMatchObject({ error: { code: -32022, data: { supported: [MODERN] } } });
  });
});
