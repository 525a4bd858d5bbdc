#!/usr/bin/env node
// The baseline the benchmarks compare WasmForge with: a bare @modelcontextprotocol/sdk stdio server whose
// tools are plain JavaScript equivalents of add, validate_url and count_vowels (same names, schemas and
// result shapes as WasmForge serves them). It has nothing to load, so it shows what the SDK and Node cost.
//
//   node bench/baseline-server.mjs              low-level Server with raw JSON Schema (the default)
//   node bench/baseline-server.mjs --mcpserver  McpServer.registerTool with zod schemas
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
import { SocketTransport } from "./lib/socket-transport.mjs";

const INFO = { name: "baseline", version: "1.0.0" };
const I32 = { type: "integer", minimum: -2147483648, maximum: 2147483647 };

const TOOLS = [
  {
    name: "add",
    description: "Add two 32-bit integers",
    inputSchema: { type: "object", properties: { a: I32, b: I32 }, required: ["a", "b"], additionalProperties: false },
  },
  {
    name: "validate_url",
    description: "1 if the text is an http(s) URL with a host and no spaces, else 0",
    inputSchema: { type: "object", properties: { data: { type: "string" } }, required: ["data"], additionalProperties: false },
  },
  {
    name: "count_vowels",
    description: "Count the vowels in a text",
    inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  },
];

const add = (a, b) => (a + b) | 0;

function validateUrl(data) {
  const rest = data.startsWith("http://") ? data.slice(7) : data.startsWith("https://") ? data.slice(8) : undefined;
  if (rest === undefined || rest === "" || rest[0] === "/") return 0;
  return /[\x00-\x20\x7f]/.test(data) ? 0 : 1;
}

function countVowels(text) {
  let count = 0;
  for (const c of text.toLowerCase()) if ("aeiou".includes(c)) count++;
  return JSON.stringify({ count, text });
}

const numberResult = (n) => ({ content: [{ type: "text", text: String(n) }], structuredContent: { result: n } });
const textResult = (text) => ({ content: [{ type: "text", text }] });
const argError = (message) => ({ isError: true, content: [{ type: "text", text: message }] });
const isI32 = (v) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;

function lowLevelServer() {
  const server = new Server(INFO, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const args = request.params.arguments ?? {};
    switch (request.params.name) {
      case "add":
        return isI32(args.a) && isI32(args.b) ? numberResult(add(args.a, args.b)) : argError("a and b must be 32-bit integers");
      case "validate_url":
        return typeof args.data === "string" ? numberResult(validateUrl(args.data)) : argError("data must be a string");
      case "count_vowels":
        return typeof args.text === "string" ? textResult(countVowels(args.text)) : argError("text must be a string");
      default:
        throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    }
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
