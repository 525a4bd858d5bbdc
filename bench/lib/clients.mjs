// The clients the benchmarks drive every server with, one per protocol era, as WasmForge's tests do:
// 2025 is the v1 SDK's Client (protocol 2025-11-25, what today's desktop clients speak); 2026 is the
// v2 SDK's Client pinned to 2026-07-28 (no initialize, the _meta envelope on every request). Within
// an era, WasmForge and the bare servers get the same client over the same transport.

import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from "@modelcontextprotocol/client";
import { StdioClientTransport as ModernStdio } from "@modelcontextprotocol/client/stdio";
import { Client as LegacyClient } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as LegacyStdio } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport as LegacyHttp } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

export const ERAS = ["2025", "2026"];
const MODERN = "2026-07-28";
const INFO = { name: "wasmforge-bench", version: "1.0.0" };

export function newClient(era) {
  return era === "2026" ? new ModernClient(INFO, { versionNegotiation: { mode: { pin: MODERN } } }) : new LegacyClient(INFO);
}

/** A client transport that spawns `params` ({command, args, cwd, env, stderr}) and speaks over its stdio. */
export const stdioTransport = (era, params) => (era === "2026" ? new ModernStdio(params) : new LegacyStdio(params));

/** A Streamable HTTP client transport to `url`. */
export const httpTransport = (era, url) => (era === "2026" ? new ModernHttp(new URL(url)) : new LegacyHttp(new URL(url)));

/** `--eras 2025,2026` → the list, in ERAS order; unknown names throw. */
export function parseEras(value) {
  if (value === undefined) return ERAS;
  const wanted = value.split(",").map((s) => s.trim());
  const unknown = wanted.filter((e) => !ERAS.includes(e));
  if (unknown.length) throw new Error(`unknown era ${unknown.join(", ")}; choose from ${ERAS.join(", ")}`);
  return ERAS.filter((e) => wanted.includes(e));
}
