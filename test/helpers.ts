// Shared by the tests: they drive the built CLI (dist/cli.js) as a user would, through the SDK's Client.

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CallToolResultSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI = join(ROOT, "dist", "cli.js");
export const MODULES = join(ROOT, "test-modules");

export function tempDir(prefix = "wasmforge-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a config into a fresh temp dir (or `dir`) and returns its path. */
export function writeConfig(toml: string, dir = tempDir()): string {
  const file = join(dir, "wasmforge.toml");
  writeFileSync(file, toml);
  return file;
}

/** A `[[modules]]` entry for one of the committed test modules (or a module at an absolute path). */
export function moduleEntry(name: string, file: string, extra = ""): string {
  return `[[modules]]\nname = "${name}"\npath = "${isAbsolute(file) ? file : join(MODULES, file)}"\n${extra}\n`;
}

export interface Connected {
  client: Client;
  stderr: () => string;
  close: () => Promise<void>;
}

export interface ConnectOptions {
  env?: Record<string, string>;
  cwd?: string;
}

/** Spawns `wasmforge serve` (or other args) and connects an SDK Client over stdio. */
export async function connect(args: string[], options: ConnectOptions = {}): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, ...args],
    env: { ...(process.env as Record<string, string>), ...options.env },
    cwd: options.cwd,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "wasmforge-tests", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}

/** Runs `body` against a server connected over stdio, and closes the server however `body` ends. */
export async function withServer<T>(args: string[], body: (server: Connected) => Promise<T>, options: ConnectOptions = {}): Promise<T> {
  const server = await connect(args, options);
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

export interface StartedCall {
  /** The server received the call: its first progress notification (0) arrived. */
  received: Promise<void>;
  /** The call runs in a worker: its "running" progress notification arrived. Rejects if it ended without one. */
  running: Promise<void>;
  result: Promise<CallToolResult>;
}

/**
 * Calls a tool with a progress token, so that a test can wait for the server's own word that the
 * call got there and that it is running (src/server/mcp-server.ts) instead of sleeping. For calls
 * that cannot end before the test lets them (held at a gate, an endless loop): the v1 client drops
 * progress that reaches it in the same read as the answer.
 */
export function startCall(client: Client, name: string, args: Record<string, unknown> = {}, options: { signal?: AbortSignal } = {}): StartedCall {
  const received = deferred();
  const running = deferred();
  const result = client.callTool({ name, arguments: args }, CallToolResultSchema, {
    signal: options.signal,
    onprogress: (p) => {
      received.resolve();
      if (p.message === "running") running.resolve();
    },
  }) as Promise<CallToolResult>;
  const ended = (how: string) => () => {
    received.reject(new Error(`call ${name} ${how} before the server said it received it`));
    running.reject(new Error(`call ${name} ${how} before the server said it was running`));
  };
  result.then(ended("was answered"), ended("failed"));
  return { received: received.promise, running: running.promise, result };
}

/** A promise settled from outside; a rejection nobody waits for is not reported. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion with optional stdin. */
export function runCli(args: string[], options: { input?: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`wasmforge ${args.join(" ")} did not exit within ${options.timeoutMs ?? 45_000} ms\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 45_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** The text of a tool result's first content item. */
export function textOf(result: unknown): string {
  const content = (result as CallToolResult).content;
  const first = content[0];
  if (!first || first.type !== "text") throw new Error(`expected text content, got ${JSON.stringify(content)}`);
  return first.text;
}

/** Parses newline-delimited JSON-RPC output. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The sum of the series named `name` whose labels include `labels`, in Prometheus text (0 when none). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}
