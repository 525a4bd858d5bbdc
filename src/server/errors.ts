// JSON-RPC errors for clients, as the SDK sends them (its ProtocolError carries code, message and
// data as they are). A resource nobody serves is SEP-2164's error: -32602 with the URI as data.

import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError } from "@modelcontextprotocol/server";

export { ProtocolError };

export const invalidParams = (message: string) => new ProtocolError(ProtocolErrorCode.InvalidParams, message);
export const internalError = (message: string) => new ProtocolError(ProtocolErrorCode.InternalError, message);
export const resourceNotFound = (message: string, uri: string) => new ResourceNotFoundError(uri, message);
