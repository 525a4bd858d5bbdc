// MCP clients of both protocol eras, over every transport WasmForge serves: the v2 SDK's Client
// pinned to 2026-07-28, and the v1 SDK's Client (2025-11-25, what today's desktop clients speak).

import type { Socket } from "node:net";
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp, type ClientCapabilities } from "@modelcontextprotocol/client";
import { StdioClientTransport as ModernStdio } from "@modelcontextprotocol/client/stdio";
import { Client as LegacyClient } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as LegacyStdio } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI } from "./helpers.js";
import { connectHttp, openSocket, SocketClientTransport } from "./network.js";

export const MODERN = "2026-07-28";
export type Era = "2026" | "2025";
export type Where = { stdio: string[] } | { tcp: number } | { http: URL; token?: string };

export function modernClient(capabilities: ClientCapabilities = {}): ModernClient {
  return new ModernClient({ name: "wasmforge-tests", version: "1.0.0" }, { capabilities, versionNegotiation: { mode: { pin: MODERN } } });
}

export function legacyClient(capabilities: Record<string, unknown> = {}): LegacyClient {
  return new LegacyClient({ name: "wasmforge-tests", version: "1.0.0" }, { capabilities });
}

/**
 * A connected client of the given era; `socket` is set for TCP, so a test can cut the connection;
 * `listening` for a 2025 client over HTTP, which hears notifications only once its GET stream is open.
 */
export async function connectEra(era: "2026", where: Where, capabilities?: ClientCapabilities): Promise<{ client: ModernClient; socket?: Socket }>;
export async function connectEra(era: "2025", where: Where, capabilities?: Record<string, unknown>): Promise<{ client: LegacyClient; socket?: Socket; listening?: Promise<void> }>;
export async function connectEra(era: Era, where: Where, capabilities: Record<string, unknown> = {}): Promise<{ client: ModernClient | LegacyClient; socket?: Socket; listening?: Promise<void> }> {
  if ("tcp" in where) {
    const socket = await openSocket(where.tcp);
    const client = era === "2026" ? modernClient(capabilities) : legacyClient(capabilities);
    await client.connect(new SocketClientTransport(socket));
    return { client, socket };
  }
  if ("http" in where) {
    const requestInit = where.token ? { headers: { authorization: `Bearer ${where.token}` } } : {};
    if (era === "2026") {
      const client = modernClient(capabilities);
      await client.connect(new ModernHttp(where.http, { requestInit }));
      return { client };
    }
    const { client, listening } = await connectHttp(where.http, where.token, legacyClient(capabilities));
    return { client, listening };
  }
  const params = { command: process.execPath, args: [CLI, ...where.stdio], stderr: "pipe" as const };
  if (era === "2026") {
    const client = modernClient(capabilities);
    await client.connect(new ModernStdio(params));
    return { client };
  }
  const client = legacyClient(capabilities);
  await client.connect(new LegacyStdio(params));
  return { client };
}
