// MCP over this process's stdin/stdout, through the v2 SDK's serveStdio: the opening message picks
// the protocol era (2026-07-28 with the _meta envelope or server/discover; 2025 for initialize or a
// message without claims, so a piped request is answered as before). stdout carries JSON-RPC only.

import { serveStdio as sdkServeStdio } from "@modelcontextprotocol/server/stdio";
import { writeLog } from "../core/log.js";
import type { McpServers } from "../server/mcp-server.js";
import { LineTransport } from "./line-transport.js";
import type { Listener } from "./listener.js";

/**
 * Serves stdio; `onInputEnd` runs once stdin has ended and every received request was answered,
 * or once stdout has failed (the client is gone).
 */
export function serveStdio(servers: McpServers, maxMessageBytes: number, onInputEnd: () => void): Listener {
  let closing: Promise<void> | undefined;
  const transport = new LineTransport(process.stdin, process.stdout, {
    maxMessageBytes,
    onOversize: "skip",
    onDrained: () => void close().then(onInputEnd),
    // Nobody reads stdout any more (the client died): nothing can be answered, and stdin, paused
    // while answers waited, would never show its end.
    onPeerGone: () => void close().then(onInputEnd),
  });
  const handle = sdkServeStdio(servers.connection, { transport, onerror: (err) => writeLog("debug", `stdio: ${err.message}`) });
  const close = () => (closing ??= transport.finish().then(() => handle.close()));
  return { close };
}
