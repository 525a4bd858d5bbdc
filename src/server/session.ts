// One MCP session: an SDK Server bound to one transport connection, answering from the shared
// ToolHost. Every connection gets its own, so clients never share protocol state.

import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  SetLevelRequestSchema,
  type LoggingLevel,
} from "@modelcontextprotocol/sdk/types.js";
import { log, onLog } from "../log.js";
import type { ToolHost } from "./host.js";

export const SERVER_VERSION = "0.1.0";

const LEVELS: LoggingLevel[] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

export interface Session {
  server: Server;
  close(): Promise<void>;
}

export async function openSession(host: ToolHost, transport: Transport): Promise<Session> {
  const server = new Server(
    { name: host.config.server.name, version: host.config.server.version ?? SERVER_VERSION },
    {
      capabilities: { tools: { listChanged: true }, logging: {} },
      instructions: "Tools implemented by WebAssembly modules. Call tools/list to see them; each tool's description names its module.",
    },
  );

  // Log lines reach a client only once it asked for them with logging/setLevel: a client that
  // pipes one request and reads one answer should see nothing else.
  let clientLevel: LoggingLevel | undefined;
  const sendLog = (level: LoggingLevel, logger: string, data: string) => {
    if (!clientLevel || LEVELS.indexOf(level) < LEVELS.indexOf(clientLevel)) return;
    void server.sendLoggingMessage({ level, logger, data }).catch(() => {});
  };
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    clientLevel = request.params.level;
    return {};
  });

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: host.listTools() }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const progressToken = request.params._meta?.progressToken;
    const progress = (value: number) =>
      progressToken === undefined
        ? Promise.resolve()
        : extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress: value, total: 1 } }).catch(() => {});
    await progress(0);
    const result = await host.callTool(request.params.name, request.params.arguments, { signal: extra.signal });
    await progress(1);
    return result;
  });

  const stopListChanged = host.onToolsChanged(() => {
    void server.sendToolListChanged().catch((err: Error) => log.debug(`list_changed not delivered: ${err.message}`));
  });
  const stopLogs = onLog((level, message) => sendLog(level === "warn" ? "warning" : level, "wasmforge", message));
  const cleanup = () => {
    stopListChanged();
    stopLogs();
  };
  server.onclose = cleanup;
  server.onerror = (err) => log.debug(`session error: ${err.message}`);

  await server.connect(transport);
  return {
    server,
    async close() {
      cleanup();
      await server.close();
    },
  };
}
