// Fuzz: thousands of malformed and hostile frames (bad JSON, binary garbage, invalid UTF-8, wrong
// types, huge and unusable ids, deep nesting, oversize lines, unknown methods, unsolicited responses)
// written raw to a running server, split into random chunks. Every frame gets the answer it is owed
// and nothing else, every output line is valid JSON-RPC, and the server still serves a valid call
// afterwards and exits cleanly. Seeded: a failure names its seed; rerun it with WASMFORGE_FUZZ_SEED.
//
//   WASMFORGE_FUZZ_FRAMES (default 2000), WASMFORGE_FUZZ_SEED (default: random)

import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { connect as netConnect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { CLI, MODULES, ROOT, writeConfig } from "../helpers.js";
import { makeFrames, prng, type Frame } from "./frames.js";
import { envNumber } from "./support.js";

const FRAMES = envNumber("WASMFORGE_FUZZ_FRAMES", 2000);
const SEED = process.env.WASMFORGE_FUZZ_SEED ? Number(process.env.WASMFORGE_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const MAX_MESSAGE_KB = 64;
const HAS_TCP = /--tcp\b/.test(execFileSync(process.execPath, [CLI, "serve", "--help"], { encoding: "utf8" }));

const fuzzConfig = () =>
  writeConfig(`
[server]
timeout_ms = 2000
max_message_kb = ${MAX_MESSAGE_KB}

[[modules]]
name = "example"
path = ${JSON.stringify(`${MODULES}/example.wasm`)}

[[modules]]
name = "text"
path = ${JSON.stringify(`${MODULES}/text.wasm`)}
tools = [{ function_name = "greeting", pattern = "no_params_to_string" }]

[[modules]]
name = "text-plugin"
path = ${JSON.stringify(`${MODULES}/text-plugin.wasm`)}

[[modules]]
name = "fail-plugin"
path = ${JSON.stringify(`${MODULES}/fail-plugin.wasm`)}
`);

/** Both directions of one connection to the server, as raw bytes. */
interface Wire {
  write(bytes: Buffer): Promise<void>;
  onData(listener: (chunk: Buffer) => void): void;
  end(): void;
}

function streamWire(input: NodeJS.WritableStream, output: NodeJS.ReadableStream): Wire {
  return {
    write: (bytes) => new Promise((resolve, reject) => input.write(bytes, (err) => (err ? reject(err) : resolve()))),
    onData: (listener) => output.on("data", listener),
    end: () => input.end(),
  };
}

const key = (id: unknown) => `${typeof id}:${String(id)}`;

interface Outcome {
  problems: string[];
  sentinel?: Record<string, unknown>;
  responses: number;
}

/**
 * Writes initialize, then every frame (split into random chunks), then a valid call, and checks what
 * came back against what each frame is owed.
 */
async function fuzz(wire: Wire, frames: Frame[], seed: number): Promise<Outcome> {
  const problems: string[] = [];
  const byKey = new Map<string, Record<string, unknown>[]>();
  let nulls = 0;
  let responses = 0;
  let partial = Buffer.alloc(0);
  let wake: () => void = () => {};
  wire.onData((chunk) => {
    partial = Buffer.concat([partial, chunk]);
    for (let nl = partial.indexOf(10); nl >= 0; nl = partial.indexOf(10)) {
      const line = partial.subarray(0, nl).toString("utf8");
      partial = partial.subarray(nl + 1);
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        problems.push(`server wrote a line that is not JSON: ${line.slice(0, 200)}`);
        continue;
      }
      if (message.jsonrpc !== "2.0") problems.push(`server wrote a message without jsonrpc 2.0: ${line.slice(0, 200)}`);
      if ("method" in message && !("id" in message)) continue; // a notification (log, progress)
      if (!("result" in message) && !("error" in message)) problems.push(`neither result nor error: ${line.slice(0, 200)}`);
      responses++;
      if (message.id === null) nulls++;
      else byKey.set(key(message.id), [...(byKey.get(key(message.id)) ?? []), message]);
      wake();
    }
  });
  const arrived = (k: string) => byKey.has(k);
  const until = (done: () => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(done()), ms);
      wake = () => {
        if (done()) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      wake();
    });

  const line = (value: unknown) => Buffer.from(`${JSON.stringify(value)}\n`);
  await wire.write(line({ jsonrpc: "2.0", id: "init", method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "fuzz", version: "1" } } }));
  await wire.write(line({ jsonrpc: "2.0", method: "notifications/initialized" }));
  if (!(await until(() => arrived(key("init")), 10_000))) return { problems: ["no answer to initialize"], responses };

  // The frames as one byte stream, cut at random places: framing must not depend on write boundaries.
  const stream = Buffer.concat(frames.flatMap((f) => [f.bytes, Buffer.from("\n")]));
  const random = prng(seed ^ 0x5bd1e995);
  for (let at = 0; at < stream.length; ) {
    const size = random() < 0.1 ? 1 + Math.floor(random() * 8) : 1 + Math.floor(random() * 65536);
    await wire.write(stream.subarray(at, at + size));
    at += size;
  }
  await wire.write(line({ jsonrpc: "2.0", id: "sentinel", method: "tools/call", params: { name: "add", arguments: { a: 2, b: 3 } } }));

  const owed = frames.filter((f) => f.expect.kind === "id").map((f) => key((f.expect as { id: unknown }).id));
  const complete = () => arrived(key("sentinel")) && owed.every(arrived);
  if (!(await until(complete, 60_000))) {
    const missing = frames.filter((f) => f.expect.kind === "id" && !arrived(key(f.expect.id)));
    problems.push(`no answer within 60 s to ${missing.length} frames, e.g. ${missing.slice(0, 5).map((f) => f.label).join("; ")}${arrived(key("sentinel")) ? "" : "; nor to the final valid call"}`);
  }
  // One more request: once it is answered, so is everything the server was going to write before it.
  await wire.write(line({ jsonrpc: "2.0", id: "last", method: "ping" }));
  if (!(await until(() => arrived(key("last")), 10_000))) problems.push("no answer to the ping after the fuzz");

  let nullsOwed = 0;
  const expectedKeys = new Set([key("init"), key("sentinel"), key("last")]);
  for (const frame of frames) {
    const e = frame.expect;
    if (e.kind === "null") nullsOwed++;
    if (e.kind === "idOrNull" && !arrived(key(e.id))) nullsOwed++;
    if (e.kind === "id" || e.kind === "idOrNull") expectedKeys.add(key(e.id));
  }
  for (const [k, messages] of byKey) {
    if (!expectedKeys.has(k)) problems.push(`answer to a frame that is owed none: ${JSON.stringify(messages[0]).slice(0, 200)}`);
    if (messages.length > 1) problems.push(`${messages.length} answers to id ${k}`);
  }
  if (nulls !== nullsOwed) {
    const owedBy = new Map<string, number>();
    for (const f of frames) if (f.expect.kind === "null") owedBy.set(f.label.replace(/\d+/g, "N"), (owedBy.get(f.label.replace(/\d+/g, "N")) ?? 0) + 1);
    problems.push(`${nulls} answers with id null, expected ${nullsOwed} (owed by: ${[...owedBy].map(([l, n]) => `${l} ×${n}`).join(", ")})`);
  }
  return { problems, sentinel: byKey.get(key("sentinel"))?.[0], responses };
}

function startServer(args: string[]): { child: ChildProcessWithoutNullStreams; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, "serve", "--config", fuzzConfig(), ...args], { cwd: ROOT });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms))]);

function expectClean(outcome: Outcome, transport: string): void {
  const tag = `${transport} fuzz, seed ${SEED} (rerun: WASMFORGE_FUZZ_SEED=${SEED} WASMFORGE_FUZZ_FRAMES=${FRAMES})`;
  expect(outcome.problems, tag).toEqual([]);
  expect(outcome.sentinel?.result, `${tag}: the valid call after the fuzz`).toMatchObject({ content: [{ type: "text", text: "5" }] });
}

describe(`fuzz (seed ${SEED}, ${FRAMES} frames)`, () => {
  it("stdio: every frame gets the answer it is owed, then a valid call succeeds and the server exits 0", async () => {
    const frames = makeFrames(SEED, FRAMES, { maxMessageBytes: MAX_MESSAGE_KB * 1024, oversize: true });
    const server = startServer([]);
    try {
      const outcome = await fuzz(streamWire(server.child.stdin, server.child.stdout), frames, SEED);
      expectClean(outcome, "stdio");
      server.child.stdin.end();
      expect(await within(server.exited, 10_000, "server did not exit"), `seed ${SEED}; stderr:\n${server.stderr().slice(-2000)}`).toBe(0);
    } finally {
      server.child.kill("SIGKILL");
    }
  }, 120_000);

  it.runIf(HAS_TCP)("tcp: every frame gets the answer it is owed, and the server keeps serving new connections", async () => {
    // An oversize message closes a TCP connection by design, so this stream has none.
    const frames = makeFrames(SEED, FRAMES, { maxMessageBytes: MAX_MESSAGE_KB * 1024, oversize: false });
    const server = startServer(["--tcp", "127.0.0.1:0"]);
    const open = async (): Promise<Socket> => {
      const address = /tcp:\/\/127\.0\.0\.1:(\d+)/;
      await expect.poll(() => server.stderr(), { message: "server did not print its tcp:// address" }).toMatch(address);
      const port = Number(address.exec(server.stderr())![1]);
      return new Promise((resolve, reject) => {
        const socket = netConnect(port, "127.0.0.1", () => resolve(socket));
        socket.once("error", reject);
      });
    };
    try {
      const first = await open();
      expectClean(await fuzz(streamWire(first, first), frames, SEED), "tcp");
      first.end();
      // A fresh connection after the fuzzed one: the server is unharmed.
      const second = await open();
      const again = await fuzz(streamWire(second, second), [], SEED);
      expectClean(again, "tcp (second connection)");
      second.destroy();
      server.child.kill("SIGTERM");
      expect(await within(server.exited, 10_000, "server did not exit on SIGTERM"), `seed ${SEED}`).toBe(0);
    } finally {
      server.child.kill("SIGKILL");
    }
  }, 120_000);
});
