// Starting the servers under test and connecting an SDK Client to them. Every figure drives WasmForge and
// the baseline the same way, through @modelcontextprotocol/sdk's Client.

import { execFileSync, spawn } from "node:child_process";
import { connect as netConnect } from "node:net";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SocketTransport } from "./socket-transport.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = join(ROOT, "dist", "cli.js");
export const BASELINE = join(ROOT, "bench", "baseline-server.mjs");
export const DEFAULT_CONFIG = join(ROOT, "wasmforge.toml");
export const EXAMPLE_WASM = join(ROOT, "test-modules", "example.wasm");

/** The exports of example.wasm; each copy renames them so 100 copies can be served side by side. */
const EXAMPLE_EXPORTS = ["add", "answer", "scale", "fib", "validate_url", "process_response"];

/** Temporary directories (generated configs, module copies), removed when the bench exits. */
const temporary = [];
process.on("exit", () => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = "wasmforge-bench-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

/** How to start each server: `node <script> <args>`. */
export const wasmforgeCommand = (config, extra = []) => ({
  label: "wasmforge",
  args: [CLI, "serve", "--config", config, "--log-level", "warn", ...extra],
});
export const baselineCommand = (extra = []) => ({ label: "baseline", args: [BASELINE, ...extra] });

/**
 * Spawns `node ...args`, connects a Client over stdio and resolves once `initialize` was answered.
 * `pid` is the server process, for reading its memory.
 */
export async function connectStdio(command, options = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: command.args,
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk) => (stderr += chunk.toString()));
  const client = new Client({ name: "wasmforge-bench", version: "1.0.0" });
  try {
    await client.connect(transport);
  } catch (err) {
    throw new Error(`${command.label} did not start: ${err.message}\n${stderr}`);
  }
  return { label: command.label, client, pid: transport.pid, stderr: () => stderr, close: () => client.close() };
}

/** Network servers still running, stopped if the bench dies half-way. */
const listening = new Set();
process.on("exit", () => {
  for (const child of listening) child.kill("SIGKILL");
});

/** Spawns `node ...args` and waits for the `scheme://...` address it prints on stderr once listening. */
export async function spawnListening(command, scheme) {
  const child = spawn(process.execPath, command.args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  listening.add(child);
  const exited = new Promise((resolve) => child.on("close", resolve));
  let stderr = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command.label} did not listen within 15 s:\n${stderr}`)), 15_000);
    child.stderr.on("data", (chunk) => {
      stderr += chunk.toString();
      const match = new RegExp(`${scheme}://[^\\s)]+`).exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    void exited.then((code) => reject(new Error(`${command.label} exited with ${code}:\n${stderr}`)));
  });
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    listening.delete(child);
  };
  return { child, url, stop };
}

async function connectOver(command, scheme, makeTransport) {
  const served = await spawnListening(command, scheme);
  const client = new Client({ name: "wasmforge-bench", version: "1.0.0" });
  try {
    await client.connect(await makeTransport(served.url));
  } catch (err) {
    await served.stop();
    throw err;
  }
  return {
    label: command.label,
    client,
    pid: served.child.pid,
    close: async () => {
      await client.close().catch(() => {});
      await served.stop();
    },
  };
}

/** Starts a server listening on TCP (it must print tcp://HOST:PORT) and connects a Client over a socket. */
export function connectTcp(command) {
  return connectOver(command, "tcp", (url) => {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = netConnect(Number(port), hostname, () => resolve(new SocketTransport(socket)));
      socket.once("error", reject);
    });
  });
}

/** Starts a server listening on HTTP (it must print http://HOST:PORT/mcp) and connects a Streamable HTTP Client. */
export function connectHttp(command) {
  return connectOver(command, "http", (url) => new StreamableHTTPClientTransport(new URL(url)));
}

/**
 * Writes a config serving `count` copies of example.wasm (distinct files, so nothing is shared by
 * accident), every tool renamed `<export>_<i>`. Returns the config path.
 */
export function writeCopiesConfig(count, dir = tempDir()) {
  const parts = ['[server]\nname = "wasmforge-bench"\n'];
  for (let i = 1; i <= count; i++) {
    const file = join(dir, `example-${i}.wasm`);
    copyFileSync(EXAMPLE_WASM, file);
    parts.push(`[[modules]]\nname = "example-${i}"\npath = ${JSON.stringify(file)}\n`);
    for (const fn of EXAMPLE_EXPORTS) parts.push(`[[modules.tools]]\nfunction_name = "${fn}"\nname = "${fn}_${i}"\n`);
  }
  const config = join(dir, "wasmforge.toml");
  writeFileSync(config, parts.join("\n"));
  return config;
}

/** Which optional `serve` features this build has, read from `wasmforge serve --help`. */
export function serveFeatures() {
  const help = execFileSync(process.execPath, [CLI, "serve", "--help"], { encoding: "utf8" });
  return {
    tcp: /--tcp\b/.test(help),
    http: /--http\b/.test(help),
    // Hot reload is on by default once it exists, with --no-watch to turn it off.
    watch: /--(no-)?watch\b/.test(help),
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
