// Shared by the reliability tests: a config mixing the example modules with hostile ones, the calls
// every tool should answer (and how), and a server handle that exposes its pid for RSS readings.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI, MODULES, ROOT, writeConfig } from "../helpers.js";

/** A positive number from the environment, or the default (bounds that `npm test` keeps small). */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw}: expected a positive number`);
  return value;
}

const at = (file: string) => JSON.stringify(join(MODULES, file));

/**
 * The example modules beside the fault modules: an endless loop with a 300 ms deadline, traps, and
 * a memory bomb capped at 16 MB. Fault tools are renamed so they do not clash with fail-plugin's.
 */
export function writeHostileConfig(extraServer = ""): string {
  return writeConfig(`
[server]
timeout_ms = 5000
${extraServer}

[[modules]]
name = "example"
path = ${at("example.wasm")}

[[modules]]
name = "text"
path = ${at("text.wasm")}
tools = [{ function_name = "greeting", pattern = "no_params_to_string" }]

[[modules]]
name = "text-plugin"
path = ${at("text-plugin.wasm")}

[[modules]]
name = "fail-plugin"
path = ${at("fail-plugin.wasm")}

[[modules]]
name = "loop"
path = ${at("faults/loop.wasm")}
timeout_ms = 300
tools = [{ function_name = "spin", name = "loop_spin" }, { function_name = "ok", name = "loop_ok" }]

[[modules]]
name = "trap"
path = ${at("faults/trap.wasm")}
tools = [{ function_name = "crash", name = "trap_crash" }, { function_name = "divide", name = "trap_divide" }]

[[modules]]
name = "membomb"
path = ${at("faults/membomb.wasm")}
max_memory_mb = 16
tools = [{ function_name = "grow", name = "membomb_grow" }, { function_name = "ok", name = "membomb_ok" }]
`);
}

export interface ExpectedCall {
  name: string;
  arguments: Record<string, unknown>;
  /** The text of a successful result... */
  text?: string;
  /** ...or a tool error (isError) whose text matches. */
  error?: RegExp;
  hostile?: boolean;
}

/** One call per tool the hostile config serves (two for divide), with what each must answer. */
export const CALLS: ExpectedCall[] = [
  { name: "add", arguments: { a: 2, b: 3 }, text: "5" },
  { name: "answer", arguments: {}, text: "42" },
  { name: "scale", arguments: { value: 1.5, factor: 2 }, text: "3" },
  { name: "fib", arguments: { n: 10 }, text: "55" },
  { name: "validate_url", arguments: { data: "https://example.com" }, text: "1" },
  { name: "process_response", arguments: { data: "HTTP/1.1 404 Not Found" }, text: "404" },
  { name: "count_words", arguments: { data: "one two  three" }, text: "3" },
  { name: "describe_url", arguments: { data: "https://example.com/a?b=1" }, text: '{"valid":true,"scheme":"https","host":"example.com","length":25}' },
  { name: "greeting", arguments: {}, text: "Hello from WasmForge!" },
  { name: "count_vowels", arguments: { text: "hello" }, text: '{"count":2,"text":"hello"}' },
  { name: "roll_dice", arguments: { sides: 6, count: 3, seed: 7 }, text: '{"rolls":[4,1,1],"total":6}' },
  { name: "greet", arguments: { name: "Ada" }, text: "Hello, Ada!" },
  { name: "ok", arguments: {}, text: "fine" },
  { name: "always_fail", arguments: {}, error: /fails on purpose/ },
  { name: "crash", arguments: {}, error: /trap|unreachable|crash/i },
  { name: "loop_ok", arguments: {}, text: "1" },
  { name: "membomb_ok", arguments: {}, text: "1" },
  { name: "trap_divide", arguments: { a: 7, b: 2 }, text: "3" },
  { name: "loop_spin", arguments: {}, error: /timed out after 300 ms/, hostile: true },
  { name: "trap_crash", arguments: {}, error: /unreachable/, hostile: true },
  { name: "trap_divide", arguments: { a: 1, b: 0 }, error: /divide by zero/, hostile: true },
  { name: "membomb_grow", arguments: {}, error: /memory/, hostile: true },
];

interface ToolResultLike {
  isError?: boolean;
  content?: { type: string; text?: string }[];
}

/** Why a result is not what `call` expects, or undefined when it is. */
export function mismatch(call: ExpectedCall, result: unknown): string | undefined {
  const r = result as ToolResultLike;
  const text = r.content?.[0]?.type === "text" ? r.content[0].text : undefined;
  if (call.error) {
    return r.isError && text !== undefined && call.error.test(text) ? undefined : `expected a tool error matching ${call.error}, got ${JSON.stringify(result)}`;
  }
  return !r.isError && text === call.text ? undefined : `expected ${JSON.stringify(call.text)}, got ${JSON.stringify(result)}`;
}

export interface Server {
  client: Client;
  pid: number;
  stderr: () => string;
  close: () => Promise<void>;
}

/** Spawns `wasmforge serve --config FILE` and connects the SDK Client over stdio. */
export async function startServer(config: string, args: string[] = []): Promise<Server> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "serve", "--config", config, ...args],
    cwd: ROOT,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "wasmforge-reliability", version: "1.0.0" });
  await client.connect(transport);
  const pid = transport.pid;
  if (pid === null) throw new Error("server has no pid");
  return { client, pid, stderr: () => stderr, close: () => client.close() };
}

/** Resident memory of a process in bytes; its worker threads live in it. */
export function rssBytes(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(status, "utf8"));
    if (match) return Number(match[1]) * 1024;
  }
  return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim()) * 1024;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
