// MCP over raw TCP: newline-delimited JSON-RPC, the same framing as stdio, with one independent
// session per connection. What one connection sends (garbage, oversize messages, vanishing
// mid-call) ends at most that connection.

import { createServer, type Socket } from "node:net";
import { log } from "../core/log.js";
import type { ToolHost } from "../server/host.js";
import { openSession, type Session } from "../server/session.js";
import { checkExposure, formatAddress, listen, type Address } from "./bind.js";
import type { Listener } from "./listener.js";
import { StreamTransport } from "./stream.js";

export interface TcpOptions {
  address: Address;
  allowRemote: boolean;
  maxMessageBytes: number;
}

/**
 * A browser can be made to POST to any local port, and a text/plain form body is one line of
 * JSON. A connection that opens with an HTTP request line is a browser, not an MCP client.
 */
const HTTP_REQUEST_LINE = /^[A-Z]{3,7} \S+ HTTP\/\d/;

export async function serveTcp(host: ToolHost, options: TcpOptions): Promise<Listener> {
  checkExposure("tcp", options.address, options.allowRemote, log.warn);
  /** Per open connection: how to finish it during shutdown. */
  const connections = new Map<Socket, () => Promise<void>>();

  // allowHalfOpen: a client that half-closes after its request still gets the answer.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    const peer = formatAddress({ host: socket.remoteAddress ?? "?", port: socket.remotePort ?? 0 });
    log.debug(`tcp ${peer}: connected`);
    let session: Session | undefined;
    let transport: StreamTransport | undefined;
    // A connection is idle until its first bytes arrive; finishing an idle one is just closing it.
    connections.set(socket, async () => void socket.destroy());
    socket.on("error", (err) => log.debug(`tcp ${peer}: ${err.message}`));
    socket.on("close", () => {
      connections.delete(socket);
      log.debug(`tcp ${peer}: disconnected`);
      // Closing the session aborts the calls still running for this client.
      void session?.close();
    });
    socket.once("end", () => {
      if (!transport) socket.end();
    });

    socket.once("data", (first: Buffer) => {
      socket.pause();
      if (HTTP_REQUEST_LINE.test(first.toString("latin1", 0, 64))) {
        log.warn(`tcp ${peer}: closed a connection that sent an HTTP request (HTTP clients need --http)`);
        socket.destroy();
        return;
      }
      socket.unshift(first);
      transport = new StreamTransport(socket, socket, {
        maxMessageBytes: options.maxMessageBytes,
        onOversize: "close",
        onProtocolError: (reason) => log.warn(`tcp ${peer}: closing the connection: ${reason}`),
      });
      const t = transport;
      // Flush what was already answered, then close; set before openSession, which chains it.
      t.onclose = () => socket.destroySoon();
      // The input ended. A raw pipe (`echo ... | nc`) half-closes and still reads: answer what it
      // sent, then end. An MCP client that initialized and hung up (or crashed) reads nothing
      // more: close now, which cancels its calls and frees their workers for other clients.
      t.onend = () => {
        if (session?.server.getClientVersion()) void t.close();
        else void t.drained().then(() => t.close());
      };
      connections.set(socket, async () => {
        socket.pause();
        await t.drained();
        await session?.close();
      });
      openSession(host, t).then(
        (opened) => {
          session = opened;
          if (socket.destroyed) void opened.close();
          else socket.resume();
        },
        (err: Error) => {
          log.error(`tcp ${peer}: cannot open a session: ${err.message}`);
          socket.destroy();
        },
      );
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
        for (const socket of connections.keys()) socket.destroySoon();
        // A client that stopped reading would keep its socket, and the server, open forever.
        const force = setTimeout(() => {
          for (const socket of connections.keys()) socket.destroy();
        }, 2000);
        await stopped;
        clearTimeout(force);
      })()),
  };
}
