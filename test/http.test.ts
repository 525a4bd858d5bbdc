// `wasmforge serve --http`: MCP Streamable HTTP on real sockets on 127.0.0.1, one session per client.

import { request } from "node:http";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { heldModule, startGate } from "./gate.js";
import { moduleEntry, runCli, startCall, tempDir, textOf, writeConfig } from "./helpers.js";
import { connectHttp, connectTcp, serveNetwork, stopDuringCall, tcpPort, type Served } from "./network.js";

const TOKEN = "test-token-4f1c";
const HTTP_LINE = /http:\/\/127\.0\.0\.1:\d+\/mcp/;

function mcpUrl(stderr: string): URL {
  const match = HTTP_LINE.exec(stderr);
  if (!match) throw new Error(`no http:// line in stderr:\n${stderr}`);
  return new URL(match[0]);
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP request, with headers fetch() would not let a test set (Host). */
function raw(url: URL, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "POST", headers: options.headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});
const postHeaders = (extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  authorization: `Bearer ${TOKEN}`,
  ...extra,
});

describe("serve --http", () => {
  let server: Served;
  let url: URL;

  beforeAll(async () => {
    const config = writeConfig(
      `[server]\nmax_body_kb = 8\nallowed_hosts = ["mcp.example.test"]\n\n${moduleEntry("example", "example.wasm")}${moduleEntry("slow", "faults/slow.wasm")}`,
    );
    server = await serveNetwork(["-c", config, "--no-watch", "--http", "0"], [HTTP_LINE], { WASMFORGE_TOKEN: TOKEN });
    url = mcpUrl(server.stderr());
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it("an SDK client with the token lists and calls tools", async () => {
    const { client } = await connectHttp(url, TOKEN);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("add");
    expect(textOf(await client.callTool({ name: "add", arguments: { a: 20, b: 22 } }))).toBe("42");
    await client.close();
  });

  it("without the token, or with a wrong one, the answer is 401 with a Bearer challenge", async () => {
    await expect(connectHttp(url)).rejects.toMatchObject({ code: 401 });
    await expect(connectHttp(url, "wrong-token")).rejects.toMatchObject({ code: 401 });
    const missing = await raw(url, { headers: postHeaders({ authorization: "" }), body: initialize });
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toMatch(/^Bearer /);
    const wrong = await raw(url, { headers: postHeaders({ authorization: "Bearer nope" }), body: initialize });
    expect(wrong.status).toBe(401);
    expect(wrong.headers["www-authenticate"]).toMatch(/invalid_token/);
  });

  it("two sessions at once each get their own session and correct answers; ending one leaves the other", async () => {
    const [a, b] = await Promise.all([connectHttp(url, TOKEN), connectHttp(url, TOKEN)]);
    expect(a.transport.sessionId).toBeTruthy();
    expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
    const calls = (c: Client, base: number) =>
      Promise.all(Array.from({ length: 20 }, (_, j) => c.callTool({ name: "add", arguments: { a: base, b: j } }).then(textOf)));
    const [fromA, fromB] = await Promise.all([calls(a.client, 1000), calls(b.client, 2000)]);
    expect(fromA).toEqual(Array.from({ length: 20 }, (_, j) => String(1000 + j)));
    expect(fromB).toEqual(Array.from({ length: 20 }, (_, j) => String(2000 + j)));

    const ended = a.transport.sessionId!;
    await a.transport.terminateSession();
    const reused = await raw(url, {
      headers: postHeaders({ "mcp-session-id": ended }),
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(reused.status).toBe(404);
    expect(textOf(await b.client.callTool({ name: "add", arguments: { a: 1, b: 2 } }))).toBe("3");
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it("a Host or Origin outside the allowlist is refused with 403; allowed_hosts extends it", async () => {
    const badHost = await raw(url, { headers: postHeaders({ host: `evil.example:${url.port}` }), body: initialize });
    expect(badHost.status).toBe(403);
    expect(badHost.body).toMatch(/allowed_hosts/);
    const badOrigin = await raw(url, { headers: postHeaders({ origin: "http://evil.example" }), body: initialize });
    expect(badOrigin.status).toBe(403);
    const configured = await raw(url, { headers: postHeaders({ host: `mcp.example.test:${url.port}` }), body: initialize });
    expect(configured.status).toBe(200);
    const localOrigin = await raw(url, { headers: postHeaders({ origin: "http://localhost:5173" }), body: initialize });
    expect(localOrigin.status).toBe(200);
  });

  it("a body over max_body_kb gets 413; a body that is not JSON gets a -32700 parse error", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { pad: "x".repeat(20_000) } });
    const tooLarge = await raw(url, { headers: postHeaders(), body: big });
    expect(tooLarge.status).toBe(413);
    const garbage = await raw(url, { headers: postHeaders(), body: "{not json" });
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body)).toMatchObject({ error: { code: -32700 } });
  });

  it("a 2025-11-25 client whose stream broke mid-call resumes it with Last-Event-ID and gets the result", async () => {
    const opening = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
    const opened = await raw(url, { headers: postHeaders(), body: opening });
    const session = { "mcp-session-id": opened.headers["mcp-session-id"] as string, "mcp-protocol-version": "2025-11-25" };
    await raw(url, { headers: postHeaders(session), body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });

    // The call's stream opens with a priming event (an id and the reconnection delay); then the connection drops.
    const call = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "sleep_ms", arguments: { ms: 2000 } } });
    const priming = await new Promise<{ id: string; retry: string }>((resolve, reject) => {
      const req = request(url, { method: "POST", headers: postHeaders(session) }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          const match = /^id: (\S+)\nretry: (\d+)\n/m.exec(text);
          if (!match) return;
          expect(text).not.toMatch(/"id":2/);
          resolve({ id: match[1]!, retry: match[2]! });
          req.destroy();
        });
      });
      req.on("error", reject);
      req.end(call);
    });
    expect(priming.retry).toBe("1000");

    // Reconnecting after the delay the priming event asked for, with the last event id it saw, the
    // client gets the stream back while the call still runs, and its result on it.
    await new Promise((resolve) => setTimeout(resolve, Number(priming.retry)));
    const resumed = await new Promise<{ status?: number; text: string }>((resolve, reject) => {
      const req = request(url, { method: "GET", headers: { accept: "text/event-stream", authorization: `Bearer ${TOKEN}`, "last-event-id": priming.id, ...session } }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          if (res.statusCode !== 200 || !/"id":2/.test(text)) return;
          resolve({ status: res.statusCode, text });
          req.destroy();
        });
        res.on("end", () => resolve({ status: res.statusCode, text }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(resumed.status).toBe(200);
    const data = /^data: (.*"id":2.*)$/m.exec(resumed.text)![1]!;
    expect(JSON.parse(data)).toMatchObject({ id: 2, result: { content: [{ type: "text", text: "2000" }] } });
    await raw(url, { method: "DELETE", headers: postHeaders(session) });
  });

  it("a 2025 session's notification stream is answered at once, not only with its first keep-alive", async () => {
    const opened = await raw(url, { headers: postHeaders(), body: initialize });
    const session = String(opened.headers["mcp-session-id"]);
    const first = await new Promise<{ status: number; type?: string; chunk: string }>((resolve, reject) => {
      const headers = { accept: "text/event-stream", authorization: `Bearer ${TOKEN}`, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" };
      const req = request(url, { method: "GET", headers }, (res) => {
        res.once("data", (chunk: Buffer) => {
          resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"], chunk: chunk.toString() });
          req.destroy();
        });
      });
      req.on("error", reject);
      req.end();
    });
    expect(first).toMatchObject({ status: 200, type: "text/event-stream" });
    // The SDK sends nothing on the stream until a keep-alive 15 s later; the client must not have to wait for that.
    expect(first.chunk).not.toMatch(/keepalive/);
  });

  it("only /mcp is served", async () => {
    const other = await raw(new URL("/other", url), { headers: postHeaders(), body: initialize });
    expect(other.status).toBe(404);
  });
});

describe("serve --http, one process at a time", () => {
  it("a non-loopback address needs a token and --allow-remote", async () => {
    const config = writeConfig(moduleEntry("example", "example.wasm"));
    const noToken = await runCli(["serve", "-c", config, "--no-watch", "--http", "0.0.0.0:0", "--allow-remote"], { env: { WASMFORGE_TOKEN: "" } });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/refusing to serve http:\/\/0\.0\.0\.0:0\/mcp without a token/);
    const notAllowed = await runCli(["serve", "-c", config, "--no-watch", "--http", "0.0.0.0:0"], { env: { WASMFORGE_TOKEN: TOKEN } });
    expect(notAllowed.code).toBe(1);
    expect(notAllowed.stderr).toMatch(/--allow-remote/);
  });

  it("list_changed and log messages from a reload reach every session of every transport; SIGTERM finishes the call in flight and exits 0", async () => {
    const gate = await startGate();
    const dir = tempDir();
    const base = moduleEntry("example", "example.wasm") + heldModule(dir);
    const config = writeConfig(base, dir);
    const server = await serveNetwork(["-c", config, "--tcp", "0", "--http", "0"], [HTTP_LINE, /tcp:\/\//], { WASMFORGE_TOKEN: "" });
    try {
      const url = mcpUrl(server.stderr());
      const http = [await connectHttp(url), await connectHttp(url)];
      const clients: Client[] = [...http.map((h) => h.client), (await connectTcp(tcpPort(server.stderr()))).client];
      const changed = clients.map(
        (c) => new Promise<void>((resolve) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve())),
      );
      const logged = clients.map(
        (c) =>
          new Promise<string>((resolve) =>
            c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
              if (String(n.params.data).includes("reloaded")) resolve(String(n.params.data));
            }),
          ),
      );
      await Promise.all(clients.map((c) => c.setLoggingLevel("info")));
      await Promise.all(http.map((h) => h.listening));

      writeFileSync(config, base + moduleEntry("text", "text.wasm"));
      await Promise.all(changed);
      expect(await Promise.all(logged)).toEqual(clients.map(() => expect.stringMatching(/tool list changed/)));
      for (const c of clients) expect((await c.listTools()).tools.map((t) => t.name)).toContain("count_words");

      expect(await stopDuringCall(server, startCall(clients[0]!, "fetch", { url: gate.url }), gate)).toBe("finished");
      expect(await server.exited).toBe(0);
    } finally {
      await server.stop();
      await gate.close();
    }
  });
});
