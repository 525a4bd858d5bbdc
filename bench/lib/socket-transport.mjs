// An MCP Transport over one TCP socket with the SDK's newline framing (ReadBuffer, serializeMessage).
// The same class serves both ends: the bench's Client side and the baseline server's TCP mode.

import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";

export class SocketTransport {
  constructor(socket) {
    this.socket = socket;
    this.buffer = new ReadBuffer();
  }

  async start() {
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk) => {
      this.buffer.append(chunk);
      try {
        for (let message = this.buffer.readMessage(); message; message = this.buffer.readMessage()) this.onmessage?.(message);
      } catch (err) {
        this.onerror?.(err);
      }
    });
    this.socket.on("error", (err) => this.onerror?.(err));
    this.socket.on("close", () => this.onclose?.());
  }

  async send(message) {
    if (!this.socket.write(serializeMessage(message))) await new Promise((resolve) => this.socket.once("drain", resolve));
  }

  async close() {
    this.socket.end();
  }
}
