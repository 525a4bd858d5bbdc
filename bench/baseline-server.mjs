#!/usr/bin/env node
// The baseline the benchmarks compare WasmForge with: a bare server on the v2 MCP SDK
// (@modelcontextprotocol/server), serving both protocol eras the way WasmForge does, with the
// JavaScript tools of bench/lib/baseline-tools.mjs run on the protocol thread. It has nothing to
// load, isolate or validate, so it shows what the SDK and Node cost on their own.
//
//   node bench/baseline-server.mjs             stdio: serveStdio, era chosen by the opening message
//   ... --tcp PORT    127.0.0.1: one serveStdio per connection over newline-delimited JSON-RPC
//   ... --http PORT   127.0.0.1, Streamable HTTP at /mcp: 2026-07-28 requests statelessly through
//                     createMcpHandler; 2025 `initialize` opens a stateful session (mcp-session-id)
// The network modes print `tcp://127.0.0.1:PORT` / `http://127.0.0.1:PORT/mcp` on stderr, as WasmForge does.
//
// stdio and TCP use WasmForge's own newline transport (dist/transports/line-transport.js, so
// `npm run build` first): both sides then frame messages with the same code, and the ratio is what
// WasmForge adds above its transport. Left out on purpose, because they are WasmForge's own cost:
// argument validation against JSON Schema, Host/Origin and token checks, progress, logging, reloads.

import { randomUUID } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { parseArgs } from "node:util";
import { toNodeHandler } from "@modelcontextprotocol/node";
import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { LineTransport } from "../dist/transports/line-transport.js";
import { INFO, TOOLS, callTool } from "./lib/baseline-tools.mjs";

/** As WasmForge's defaults: [server] max_message_kb, and the cache hints of its list results. */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
const LIST_HINT = { ttlMs: 5000, cacheScope: "public" };

/** One low-level Server per connection, 2025 session or stateless request; `ctx.era` needs nothing here. */
function newServer() {
  const server = new Server(INFO, { capabilities: { tools: {} }, cacheHints: { "tools/list": LIST_HINT, "server/discover": LIST_HINT } });
  server.setRequestHandler("tools/list", () => ({ tools: TOOLS }));
  server.setRequestHandler("tools/call", (request) => {
    const result = callTool(request.params.name, request.params.arguments);
    if (!result) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    return result;
  });
  return server;
}

const onerror = () => {};
const { values } = parseArgs({ options: { tcp: { type: "string" }, http: { type: "string" } } });

if (values.tcp !== undefined) {
  const listener = createTcpServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on("error", () => {});
    let handle;
    const transport = new LineTransport(socket, socket, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      onOversize: "close",
      onDrained: () => void handle.close(),
      afterClose: () => socket.end(),
    });
    handle = serveStdio(newServer, { transport, onerror });
    socket.once("close", () => void handle.close());
  });
  listener.listen(Number(values.tcp), "127.0.0.1", () => process.stderr.write(`listening on tcp://127.0.0.1:${listener.address().port}\n`));
} else if (values.http !== undefined) {
  const modern = createMcpHandler(newServer, { legacy: "reject", onerror });
  const stateless = legacyStatelessFallback(newServer, onerror);
  const sessions = new Map();
  const openSession = async (request, parsedBody) => {
    const server = newServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => sessions.set(id, transport),
      onsessionclosed: (id) => sessions.delete(id),
    });
    transport.onclose = () => sessions.delete(transport.sessionId);
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody });
  };
  const legacy = (request, parsedBody) => {
    const id = request.headers.get("mcp-session-id");
    if (id !== null) {
      const transport = sessions.get(id);
      return transport ? transport.handleRequest(request, { parsedBody }) : Response.json({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }, { status: 404 });
    }
    if (request.method === "POST" && parsedBody !== undefined && isInitializeRequest(parsedBody)) return openSession(request, parsedBody);
    return stateless(request, { parsedBody });
  };
  const fetch = async (request) => {
    // The body is parsed once and handed on, as WasmForge does.
    let parsedBody;
    if (request.method === "POST") {
      const text = await request.clone().text();
      try {
        parsedBody = text === "" ? undefined : JSON.parse(text);
      } catch {
        return Response.json({ jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null }, { status: 400 });
      }
    }
    if (await isLegacyRequest(request, parsedBody)) return legacy(request, parsedBody);
    return modern.fetch(request, { parsedBody });
  };
  const handler = toNodeHandler({ fetch }, { onerror });
  const listener = createHttpServer((req, res) => void handler(req, res));
  listener.listen(Number(values.http), "127.0.0.1", () => process.stderr.write(`listening on http://127.0.0.1:${listener.address().port}/mcp\n`));
} else {
  let handle;
  const transport = new LineTransport(process.stdin, process.stdout, {
    maxMessageBytes: MAX_MESSAGE_BYTES,
    onOversize: "skip",
    onDrained: () => void handle.close().then(() => process.exit(0)),
  });
  handle = serveStdio(newServer, { transport, onerror });
}
