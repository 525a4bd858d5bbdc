// MCP over raw TCP: newline-delimited JSON-RPC, the same framing as stdio, served per connection by
// the v2 SDK's serveStdio (which picks the protocol era from the connection's opening message).
// What one connection sends (garbage, oversize or unfinished messages, requests it never reads the
// answers to, vanishing mid-call) ends at most that connection.

import { createServer, type Socket } from "node:net";
import { serveStdio as serveConnection } from "@modelcontextprotocol/server/stdio";
import { log, writeLog } from "../core/log.js";
import type { McpServers } from "../server/mcp-server.js";
import { checkExposure, formatAddress, listen, type Address } from "./bind.js";
import { LineTransport } from "./line-transport.js";
import type { Listener } from "./listener.js";

export interface TcpOptions {
  address: Address;
  allowRemote: boolean;
  maxMessageBytes: number;
  /** A connection holding an unfinished message that does not grow for this long is closed. */
  messageIdleMs: number;
}

/**
 * A browser can be made to POST to any local port, and a text/plain form body is one line of
 * JSON. A connection that opens with an HTTP request line is a browser, not an MCP client.
 */
const HTTP_REQUEST_LINE = /^[A-Z]{3,7} \S+ HTTP\/\d/;

export async function serveTcp(servers: McpServers, options: TcpOptions): Promise<Listener> {
  checkExposure("tcp", options.address, options.allowRemote, log.warn);
  /** Per open connection: how to finish it during shutdown. */
  const connections = new Map<Socket, () => Promise<void>>();

  // allowHalfOpen: a client that half-closes after its requests still gets every answer.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    const peer = formatAddress({ host: socket.remoteAddress ?? "?", port: socket.remotePort ?? 0 });
    writeLog("debug", `tcp ${peer}: connected`);
    // A connection is idle until its first bytes arrive; finishing an idle one is just closing it.
    connections.set(socket, async () => void socket.destroy());
    socket.on("error", (err) => writeLog("debug", `tcp ${peer}: ${err.message}`));
    let started = false;
    // Closed before sending anything: nothing to answer.
    socket.once("end", () => {
      if (!started) socket.end();
    });
    socket.once("close", () => {
      if (!started) connections.delete(socket);
    });

    socket.once("data", (first: Buffer) => {
      started = true;
      socket.pause();
      if (HTTP_REQUEST_LINE.test(first.toString("latin1", 0, 64))) {
        log.warn(`tcp ${peer}: closed a connection that sent an HTTP request (HTTP clients need --http)`);
        socket.destroy();
        return;
      }
      socket.unshift(first);
      let closeHandle: () => Promise<void> = async () => undefined;
      const transport = new LineTransport(socket, socket, {
        maxMessageBytes: options.maxMessageBytes,
        onOversize: "close",
        partialLineTimeoutMs: options.messageIdleMs,
        onProtocolError: (reason) => log.warn(`tcp ${peer}: closing the connection: ${reason}`),
        // The input ended (half-close, or `echo … | nc`): every request read was answered.
        onDrained: () => void closeHandle(),
        // Flush what was answered, then close; a peer that reads nothing more is cut off after a moment.
        afterClose: () => {
          socket.end();
          setTimeout(() => socket.destroy(), 2000).unref();
        },
      });
      const handle = serveConnection(servers.connection, { transport, onerror: (err) => writeLog("debug", `tcp ${peer}: ${err.message}`) });
      closeHandle = () => handle.close();
      // The peer is gone (reset, or closed both ways): its calls are cancelled and their workers freed.
      socket.once("close", () => {
        connections.delete(socket);
        writeLog("debug", `tcp ${peer}: disconnected`);
        void handle.close();
      });
      connections.set(socket, async () => {
        await transport.finish();
        await handle.close();
      });
    });
  });

  const bound = await listen(server, options.address, "tcp");
  log.info(`listening on tcp://${formatAddress(bound)} (newline-delimited JSON-RPC, one session per connection)`);

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...connections.values()].map((finish) => finish()));
        // A client that stopped reading would keep its socket, and the server, open forever.
        for (const socket of connections.keys()) socket.destroy();
        await stopped;
      })()),
  };
}
