// Newline-delimited JSON-RPC over any byte stream: stdin/stdout, or one TCP socket. Framing uses the
// SDK's own (de)serializers. Unlike the SDK's StdioServerTransport it answers a malformed line with a
// JSON-RPC error instead of dropping it silently, and it reports the end of input, so the server can
// finish in-flight calls and exit.

import type { Readable, Writable } from "node:stream";
import { deserializeMessage, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";

export interface StreamTransportOptions {
  /** Largest accepted message in bytes. */
  maxMessageBytes: number;
  /** What an oversize message does: "skip" answers with an error and goes on; "close" ends the stream. */
  onOversize: "skip" | "close";
  /** Called with a reason when the stream is closed because of what the peer sent. */
  onProtocolError?: (reason: string) => void;
}

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

export class StreamTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** The input ended (stdin closed, peer half-closed the socket). */
  onend?: () => void;

  private chunks: Buffer[] = [];
  private buffered = 0;
  private skipping = false;
  private closed = false;
  /** Requests received and not yet answered. */
  private readonly pending = new Set<RequestId>();
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly options: StreamTransportOptions,
  ) {}

  async start(): Promise<void> {
    this.input.on("data", this.onData);
    this.input.on("end", this.onEnd);
    this.input.on("error", this.onStreamError);
    this.output.on("error", this.onStreamError);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return;
    if (("result" in message || "error" in message) && "id" in message && message.id !== undefined && message.id !== null) {
      this.pending.delete(message.id);
    }
    const json = serializeMessage(message);
    await new Promise<void>((resolve) => {
      if (this.output.write(json)) resolve();
      else this.output.once("drain", resolve);
    });
    if (this.pending.size === 0) this.wakeDrainWaiters();
  }

  /** Resolves once every request received so far has been answered. */
  drained(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off("data", this.onData);
    this.input.off("end", this.onEnd);
    this.chunks = [];
    this.wakeDrainWaiters();
    this.onclose?.();
  }

  private wakeDrainWaiters(): void {
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  private onStreamError = (error: Error) => this.onerror?.(error);

  private onEnd = () => this.onend?.();

  private onData = (chunk: Buffer) => {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, newline < 0 ? chunk.length : newline);
      if (!this.skipping) {
        this.chunks.push(piece);
        this.buffered += piece.length;
      }
      if (this.buffered > this.options.maxMessageBytes && !this.skipping) {
        if (!this.oversize()) return;
      }
      if (newline < 0) return;
      if (this.skipping) this.skipping = false;
      else this.processLine(Buffer.concat(this.chunks).toString("utf8").replace(/\r$/, ""));
      this.chunks = [];
      this.buffered = 0;
      start = newline + 1;
      if (this.closed) return;
    }
  };

  /** Returns false when the stream was closed. */
  private oversize(): boolean {
    const reason = `message larger than the ${this.options.maxMessageBytes}-byte limit`;
    this.chunks = [];
    this.buffered = 0;
    if (this.options.onOversize === "close") {
      this.options.onProtocolError?.(reason);
      void this.close();
      return false;
    }
    this.skipping = true;
    this.replyError(null, INVALID_REQUEST, `Invalid Request: ${reason}; it was discarded`);
    return true;
  }

  private processLine(line: string): void {
    if (line.trim() === "") return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch (err) {
      if (err instanceof SyntaxError) {
        this.replyError(null, PARSE_ERROR, `Parse error: ${err.message}`);
      } else {
        this.replyError(idOf(line), INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 request, notification or response");
      }
      return;
    }
    if ("method" in message && "id" in message) this.pending.add(message.id);
    this.onmessage?.(message);
    // A cancelled request gets no response, so it no longer holds up a drain.
    if ("method" in message && message.method === "notifications/cancelled") {
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (id !== undefined && this.pending.delete(id) && this.pending.size === 0) this.wakeDrainWaiters();
    }
  }

  private replyError(id: RequestId | null, code: number, message: string): void {
    const reply = { jsonrpc: "2.0", id, error: { code, message } } as unknown as JSONRPCMessage;
    void this.send(reply);
  }
}

/** The id of a request that parsed as JSON but is not valid JSON-RPC, when it has a usable one. */
function idOf(line: string): RequestId | null {
  try {
    const value: unknown = JSON.parse(line);
    if (value && typeof value === "object" && "id" in value) {
      const id = (value as { id: unknown }).id;
      if (typeof id === "string" || (typeof id === "number" && Number.isFinite(id))) return id;
    }
  } catch {
    // not JSON at all
  }
  return null;
}
