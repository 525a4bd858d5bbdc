// Shared by the network transport tests: spawn `wasmforge serve --tcp/--http`, read the address it
// prints, and talk to it over a real socket.

import { spawn, type ChildProcess } from "node:child_process";
import { connect as netConnect, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import type { Gate } from "./gate.js";
import { CLI, ROOT, textOf, type StartedCall } from "./helpers.js";

export interface Served {
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop: () => Promise<number | null>;
}

/** Spawns `wasmforge serve ARGS` and waits until stderr matches every pattern (e.g. the listen lines). */
export async function serveNetwork(args: string[], wait: RegExp[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [CLI, "serve", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wasmforge serve ${args.join(" ")} did not start listening\nstderr: ${stderr}`)), 20_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (wait.every((re) => re.test(stderr))) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`wasmforge serve ${args.join(" ")} exited with ${code}\nstderr: ${stderr}`));
    });
  });
  return {
    child,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/**
 * Sends SIGTERM while `call` waits at `gate`, and checks the server waits for it: it says it is
 * finishing in-flight calls and stays up until the gate lets the call finish. Returns the call's text.
 */
export async function stopDuringCall(server: Served, call: StartedCall, gate: Gate): Promise<string> {
  await call.running;
  await expect.poll(() => gate.waiting()).toBe(1);
  server.child.kill("SIGTERM");
  await expect.poll(() => server.stderr()).toMatch(/SIGTERM: finishing in-flight calls, then exiting/);
  expect(server.child.exitCode).toBeNull();
  gate.open("finished");
  return textOf(await call.result);
}

/** The port in the `tcp://127.0.0.1:PORT` line. */
export function tcpPort(stderr: string): number {
  const match = /tcp:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
  if (!match) throw new Error(`no tcp:// line in stderr:\n${stderr}`);
  return Number(match[1]);
}

/** The client side of newline-delimited JSON-RPC over one TCP socket, with the SDK's framing. */
export class SocketClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly buffer = new ReadBuffer();

  constructor(readonly socket: Socket) {}

  async start(): Promise<void> {
    this.socket.on("data", (chunk: Buffer) => {
      this.buffer.append(chunk);
      for (let message = this.buffer.readMessage(); message; message = this.buffer.readMessage()) this.onmessage?.(message);
    });
    this.socket.on("error", (err) => this.onerror?.(err));
    this.socket.on("close", () => this.onclose?.());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.socket.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    this.socket.end();
  }
}

export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** An SDK Client connected over TCP; `socket` lets a test cut the connection. */
export async function connectTcp(port: number): Promise<{ client: Client; socket: Socket }> {
  const socket = await openSocket(port);
  const client = new Client({ name: "wasmforge-tcp-test", version: "1.0.0" });
  await client.connect(new SocketClientTransport(socket));
  return { client, socket };
}

export interface HttpConnection {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /**
   * Resolves once the server has accepted the client's notification (GET) stream, which the client
   * opens just after connecting: only then can it hear list_changed and log messages.
   */
  listening: Promise<void>;
}

/** An SDK Client (`client`, or a plain one) over Streamable HTTP (2025 sessions), with the bearer token when given. */
export async function connectHttp(url: URL, token?: string, client = new Client({ name: "wasmforge-http-test", version: "1.0.0" })): Promise<HttpConnection> {
  let opened!: () => void;
  const listening = new Promise<void>((resolve) => (opened = resolve));
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === "GET" && response.ok) opened();
      return response;
    },
  });
  await client.connect(transport);
  return { client, transport, listening };
}

/** Collects newline-delimited JSON from a raw socket (or any stream); `next()` waits for the next message. */
export function lineReader(socket: Readable): { next: (timeoutMs?: number) => Promise<Record<string, unknown>>; closed: Promise<void> } {
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  let partial = "";
  socket.on("data", (chunk: Buffer) => {
    partial += chunk.toString();
    let newline: number;
    while ((newline = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      if (!line.trim()) continue;
      const message = JSON.parse(line) as Record<string, unknown>;
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    }
  });
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  return {
    closed,
    next: (timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const queued = queue.shift();
        if (queued) return resolve(queued);
        const waiter = (m: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(m);
        };
        // A waiter that gave up leaves the queue, so it cannot swallow the next message.
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error("no message within the time limit"));
        }, timeoutMs);
        waiters.push(waiter);
      }),
  };
}
