#!/usr/bin/env node
// The v1 reference for the benchmarks: a bare @modelcontextprotocol/sdk 1.x server (protocol 2025-11-25
// only) with the JavaScript tools of bench/lib/baseline-tools.mjs. WasmForge no longer runs on this SDK;
// its figures stay in the tables beside the bare v2 server's, to show what the SDK change costs by itself.
//
//   node bench/baseline-server-v1.mjs              low-level Server with raw JSON Schema (the default)
//   node bench/baseline-server-v1.mjs --mcpserver  McpServer.registerTool with zod schemas
//   ... --tcp PORT   newline-delimited JSON-RPC over TCP on 127.0.0.1, one Server per connection
//   ... --http PORT  the SDK's Streamable HTTP at /mcp on 127.0.0.1, stateful, one Server per session
// The network modes print `tcp://127.0.0.1:PORT` / `http://127.0.0.1:PORT/mcp` on stderr, as WasmForge does.

import { randomUUID } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { parseArgs } from "node:util";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { INFO, TOOLS, add, callTool, countVowels, numberResult, textResult, validateUrl } from "./lib/baseline-tools.mjs";
import { SocketTransport } from "./lib/socket-transport.mjs";

function lowLevelServer() {
  const server = new Server(INFO, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const result = callTool(request.params.name, request.params.arguments);
    if (!result) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    return result;
  });
  return server;
}

function highLevelServer() {
  const server = new McpServer(INFO);
  const i32 = z.number().int().min(-2147483648).max(2147483647);
  server.registerTool("add", { description: TOOLS[0].description, inputSchema: { a: i32, b: i32 } }, ({ a, b }) => numberResult(add(a, b)));
  server.registerTool("validate_url", { description: TOOLS[1].description, inputSchema: { data: z.string() } }, ({ data }) =>
    numberResult(validateUrl(data)),
  );
  server.registerTool("count_vowels", { description: TOOLS[2].description, inputSchema: { text: z.string() } }, ({ text }) =>
    textResult(countVowels(text)),
  );
  return server;
}

const { values } = parseArgs({ options: { mcpserver: { type: "boolean" }, tcp: { type: "string" }, http: { type: "string" } } });
const newServer = values.mcpserver ? highLevelServer : lowLevelServer;

if (values.tcp !== undefined) {
  const listener = createTcpServer((socket) => {
    socket.on("error", () => {});
    void newServer().connect(new SocketTransport(socket));
  });
  listener.listen(Number(values.tcp), "127.0.0.1", () => process.stderr.write(`listening on tcp://127.0.0.1:${listener.address().port}\n`));
} else if (values.http !== undefined) {
  const sessions = new Map();
  const listener = createHttpServer(async (req, res) => {
    let transport = sessions.get(req.headers["mcp-session-id"]);
    if (!transport) {
      transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => sessions.set(id, transport) });
      transport.onclose = () => sessions.delete(transport.sessionId);
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  listener.listen(Number(values.http), "127.0.0.1", () => process.stderr.write(`listening on http://127.0.0.1:${listener.address().port}/mcp\n`));
} else {
  await newServer().connect(new StdioServerTransport());
  // The SDK's stdio transport ignores stdin closing; exit like WasmForge does.
  process.stdin.on("end", () => process.exit(0));
}
