// Newline-delimited JSON-RPC over any byte stream pair: stdin/stdout, or one TCP socket. It is the
// transport the v2 SDK's serveStdio is given (one per connection). The SDK's own StdioServerTransport
// lacks what WasmForge promises (its closing note in docs/architecture.md lists why), so this one:
//  - answers a line that is not JSON with -32700 and one that is not JSON-RPC with -32600, and goes on;
//  - parses a last line that has no newline;
//  - on end of input answers everything it read before it closes (a half-close is not a hang-up);
//  - bounds memory: an oversize line is skipped (stdio) or ends the connection (TCP), reading pauses
//    while too much output waits for a reader that does not read, and a line left unfinished past
//    an idle timeout ends the connection;
//  - answers -32022 to a later request claiming a protocol revision WasmForge does not serve
//    (serveStdio checks only the opening message).

import type { Readable, Writable } from "node:stream";
import {
  isJSONRPCNotification,
  isJSONRPCRequest,
  parseJSONRPCMessage,
  serializeMessage,
  type JSONRPCMessage,
  type RequestId,
  type Transport,
} from "@modelcontextprotocol/server";

export const MODERN_REVISIONS = ["2026-07-28"];
const PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion";

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const UNSUPPORTED_VERSION = -32022;

/** Reading pauses while more than this waits to be written (a peer that does not read). */
const OUTPUT_HIGH_WATER = 1024 * 1024;
/** Reading pauses while this many requests are unanswered. */
const MAX_PENDING = 256;

export interface LineTransportOptions {
  /** Largest accepted line in bytes. */
  maxMessageBytes: number;
  /** An oversize line: "skip" answers -32600 and goes on; "close" ends the connection. */
  onOversize: "skip" | "close";
  /** A partial line that does not grow for this long ends the connection (TCP); default: never. */
  partialLineTimeoutMs?: number;
  /** Why the connection was ended because of what the peer sent. */
  onProtocolError?: (reason: string) => void;
  /** Input ended and every request read before was answered; default: close(). */
  onDrained?: () => void;
  /** After the transport closed (the entry has been told): release the stream, e.g. end the socket. */
  afterClose?: () => void;
  /** The output failed (EPIPE: the peer is gone); the transport has closed. */
  onPeerGone?: () => void;
}

export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private chunks: Buffer[] = [];
  private buffered = 0;
  private skipping = false;
  private ended = false;
  private closed = false;
  private drainedFired = false;
  private paused = false;
  /** Requests received and not yet answered (open subscriptions/listen streams excluded). */
  private readonly pending = new Set<RequestId>();
  /** Requests this side sent to the peer (2025 elicitation, sampling) and not yet answered. */
  private readonly outbound = new Set<RequestId>();
  private partialTimer?: NodeJS.Timeout;
  private finishWaiters: (() => void)[] = [];

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly options: LineTransportOptions,
  ) {}

  async start(): Promise<void> {
    this.input.on("data", this.onData);
    this.input.on("end", this.onEnd);
    this.input.on("error", this.onInputError);
    this.output.on("error", this.onOutputError);
    this.output.on("drain", this.maybeResume);
    // A TCP socket arrives paused (its first bytes were looked at): reading starts here.
    this.input.resume();
    if (this.input.readableEnded) setImmediate(this.onEnd);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return;
    if (!("method" in message) && message.id !== undefined) this.settle(message.id);
    if (isJSONRPCRequest(message)) {
      // A request to the peer after its input ended can never be answered: fail it here so the
      // handler waiting on it finishes and answers its own request.
      if (this.ended) return this.failOutbound(message.id);
      this.outbound.add(message.id);
    }
    await this.write(serializeMessage(message));
  }

  /** Stops reading and resolves once every request read so far has been answered (a graceful shutdown). */
  finish(): Promise<void> {
    this.input.off("data", this.onData);
    this.input.pause();
    if (this.pending.size === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.finishWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.partialTimer);
    this.input.off("data", this.onData);
    this.input.off("end", this.onEnd);
    this.output.off("drain", this.maybeResume);
    this.chunks = [];
    this.buffered = 0;
    this.pending.clear();
    for (const wake of this.finishWaiters.splice(0)) wake();
    this.onclose?.();
    this.options.afterClose?.();
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.output.destroyed || this.output.writableEnded) return resolve();
      this.output.write(text, () => resolve());
      if (this.output.writableLength > OUTPUT_HIGH_WATER) this.pause();
    });
  }

  private pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.input.pause();
  }

  private readonly maybeResume = (): void => {
    if (!this.paused || this.closed) return;
    if (this.output.writableLength > OUTPUT_HIGH_WATER || this.pending.size >= MAX_PENDING) return;
    this.paused = false;
    this.input.resume();
  };

  private settle(id: RequestId): void {
    if (!this.pending.delete(id)) return;
    if (this.pending.size === 0) for (const wake of this.finishWaiters.splice(0)) wake();
    if (this.paused) this.maybeResume();
    this.maybeDrained();
  }

  private readonly onData = (chunk: Buffer): void => {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, newline < 0 ? chunk.length : newline);
      if (!this.skipping) {
        this.chunks.push(piece);
        this.buffered += piece.length;
        if (this.buffered > this.options.maxMessageBytes && !this.oversize()) return;
      }
      if (newline < 0) break;
      if (this.skipping) this.skipping = false;
      else this.takeLine();
      start = newline + 1;
      if (this.closed) return;
    }
    this.watchPartialLine();
    if (this.pending.size >= MAX_PENDING) this.pause();
  };

  private takeLine(): void {
    const line = Buffer.concat(this.chunks).toString("utf8").replace(/\r$/, "");
    this.chunks = [];
    this.buffered = 0;
    this.processLine(line);
  }

  /** A connection holding an unfinished line that stops growing is closed, freeing what it holds. */
  private watchPartialLine(): void {
    const timeout = this.options.partialLineTimeoutMs;
    if (timeout === undefined) return;
    clearTimeout(this.partialTimer);
    if (this.buffered === 0 && !this.skipping) return;
    this.partialTimer = setTimeout(() => {
      this.options.onProtocolError?.(`an unfinished message sat idle for ${timeout} ms ([server] message_idle_ms)`);
      void this.close();
    }, timeout);
    this.partialTimer.unref();
  }

  /** Returns false when the connection was closed. */
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
    this.replyError(null, INVALID_REQUEST, `Invalid Request: ${reason} ([server] max_message_kb); it was discarded`);
    return true;
  }

  private processLine(line: string): void {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      return this.replyError(null, PARSE_ERROR, `Parse error: ${(err as Error).message}`);
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(value);
    } catch {
      const why = Array.isArray(value) ? "batches are not supported" : "not a JSON-RPC 2.0 request, notification or response";
      return this.replyError(idOf(value), INVALID_REQUEST, `Invalid Request: ${why}`);
    }
    if (isJSONRPCRequest(message)) {
      const claimed = message.params?._meta?.[PROTOCOL_VERSION_KEY];
      if (typeof claimed === "string" && !MODERN_REVISIONS.includes(claimed)) {
        const reply = { jsonrpc: "2.0", id: message.id, error: { code: UNSUPPORTED_VERSION, message: `Unsupported protocol version: ${claimed}`, data: { supported: MODERN_REVISIONS, requested: claimed } } };
        void this.write(`${JSON.stringify(reply)}\n`);
        return;
      }
      // A listen stream stays open by design; it never holds up the end of input.
      if (message.method !== "subscriptions/listen") this.pending.add(message.id);
    } else if (!("method" in message)) {
      if (message.id !== undefined) this.outbound.delete(message.id);
    } else if (isJSONRPCNotification(message) && message.method === "notifications/cancelled") {
      // A cancelled request may go unanswered: it no longer holds up the end of input.
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (id !== undefined) queueMicrotask(() => this.settle(id));
    }
    this.onmessage?.(message);
  }

  private replyError(id: RequestId | null, code: number, message: string): void {
    void this.write(`${JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } })}\n`);
  }

  private readonly onEnd = (): void => {
    if (this.ended || this.closed) return;
    this.ended = true;
    clearTimeout(this.partialTimer);
    // The last line may have no newline.
    if (this.buffered > 0 && !this.skipping) this.takeLine();
    for (const id of [...this.outbound]) this.failOutbound(id);
    this.maybeDrained();
  };

  private failOutbound(id: RequestId): void {
    this.outbound.delete(id);
    queueMicrotask(() => this.onmessage?.({ jsonrpc: "2.0", id, error: { code: -32000, message: "Connection closed: the client's input ended" } }));
  }

  private maybeDrained(): void {
    if (!this.ended || this.pending.size > 0 || this.drainedFired) return;
    // Let whatever is queued behind the last answer be written first.
    setImmediate(() => {
      if (this.pending.size > 0 || this.drainedFired || this.closed) return;
      this.drainedFired = true;
      if (this.options.onDrained) this.options.onDrained();
      else void this.close();
    });
  }

  private readonly onInputError = (error: Error): void => {
    this.onerror?.(error);
  };

  /** The peer is gone (EPIPE, reset): nothing more can be answered, so stop now. */
  private readonly onOutputError = (error: Error): void => {
    if (this.closed) return;
    this.onerror?.(error);
    void this.close().then(() => this.options.onPeerGone?.());
  };
}

/** The id of a message that parsed as JSON but is not valid JSON-RPC, when it has a usable one. */
function idOf(value: unknown): RequestId | null {
  if (value && typeof value === "object" && !Array.isArray(value) && "id" in value) {
    const id = (value as { id: unknown }).id;
    if (typeof id === "string" || (typeof id === "number" && Number.isFinite(id))) return id;
  }
  return null;
}
