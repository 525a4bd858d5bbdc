// The servers under test, how to start them, and how to connect a client of either era to them:
// WasmForge, the bare v2 SDK server (the baseline) and the bare v1 SDK server (a reference, 2025 only).

import { execFileSync, spawn } from "node:child_process";
import { connect as netConnect } from "node:net";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ERAS, httpTransport, newClient, stdioTransport } from "./clients.mjs";
import { SocketTransport } from "./socket-transport.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = join(ROOT, "dist", "cli.js");
export const BASELINE = join(ROOT, "bench", "baseline-server.mjs");
export const BASELINE_V1 = join(ROOT, "bench", "baseline-server-v1.mjs");
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

/** How to start each server: `node <args>`. */
export const wasmforgeCommand = (config, extra = []) => ({
  label: "wasmforge",
  args: [CLI, "serve", "--config", config, "--log-level", "warn", ...extra],
});
export const baselineCommand = (extra = []) => ({ label: "bare v2", args: [BASELINE, ...extra] });
export const baselineV1Command = (extra = []) => ({ label: "bare v1", args: [BASELINE_V1, ...extra] });

/**
 * The servers every comparison runs: `key` names them in results, `eras` are the protocol eras each
 * serves, `command(listen)` starts one, on stdio or listening with `listen` ("--tcp", "--http") on a
 * free port; a network server prints its address on stderr (WasmForge at log level info).
 */
export const subjects = (config) => [
  {
    key: "wasmforge",
    label: "wasmforge",
    eras: ERAS,
    command: (listen) => wasmforgeCommand(config, listen ? [listen, "127.0.0.1:0", "--log-level", "info"] : []),
  },
  { key: "baseline", label: "bare v2", eras: ERAS, command: (listen) => baselineCommand(listen ? [listen, "0"] : []) },
  { key: "v1", label: "bare v1", eras: ["2025"], command: (listen) => baselineV1Command(listen ? [listen, "0"] : []) },
];

/**
 * Spawns `node ...args`, connects a client of `era` over its stdio and resolves once the client's
 * opening exchange was answered (initialize for 2025, server/discover for 2026). `pid` is the server
 * process, for reading its memory and CPU time.
 */
export async function connectStdio(command, era = "2025", options = {}) {
  const transport = stdioTransport(era, {
    command: process.execPath,
    args: command.args,
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk) => (stderr += chunk.toString()));
  const client = newClient(era);
  try {
    await client.connect(transport);
  } catch (err) {
    await client.close().catch(() => {});
    throw new Error(`${command.label} (${era} client) did not start: ${err.message}\n${stderr}`);
  }
  return { label: command.label, era, client, pid: transport.pid, stderr: () => stderr, close: () => client.close() };
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
  return { label: command.label, child, pid: child.pid, url, stop };
}

/** Connects a client of `era` to a server from spawnListening; closing it leaves the server running. */
export async function connectListening(served, era) {
  const client = newClient(era);
  const transport = served.url.startsWith("tcp:") ? await openSocket(served.url) : httpTransport(era, served.url);
  try {
    await client.connect(transport);
  } catch (err) {
    throw new Error(`${served.label} (${era} client, ${served.url}): ${err.message}`);
  }
  return { label: served.label, era, client, pid: served.pid, close: () => client.close().catch(() => {}) };
}

function openSocket(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect(Number(port), hostname, () => resolve(new SocketTransport(socket)));
    socket.once("error", reject);
  });
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
