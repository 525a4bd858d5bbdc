// MCP over this process's stdin/stdout. stdout carries JSON-RPC only; logs go to stderr.

import type { ToolHost } from "../server/host.js";
import { openSession } from "../server/session.js";
import { StreamTransport } from "./stream.js";

import type { Listener } from "./listener.js";

/** Serves stdio; `onInputEnd` runs once stdin has ended and every received request was answered. */
export async function serveStdio(host: ToolHost, maxMessageBytes: number, onInputEnd: () => void): Promise<Listener> {
  const transport = new StreamTransport(process.stdin, process.stdout, { maxMessageBytes, onOversize: "skip" });
  const session = await openSession(host, transport);
  const close = async () => {
    await transport.drained();
    await session.close();
  };
  transport.onend = () => void close().then(onInputEnd);
  return { close };
}
