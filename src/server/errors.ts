// JSON-RPC errors for clients. The SDK sends an error's `code`, `message` and `data` as they are;
// its McpError would put "MCP error -32602:" into the message, which SDK clients then prefix again.

import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";

export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** A resource URI nobody serves (the MCP spec's code for it). */
export const RESOURCE_NOT_FOUND = -32002;

export const invalidParams = (message: string) => new ProtocolError(ErrorCode.InvalidParams, message);
export const internalError = (message: string) => new ProtocolError(ErrorCode.InternalError, message);
export const resourceNotFound = (message: string, uri: string) => new ProtocolError(RESOURCE_NOT_FOUND, message, { uri });
