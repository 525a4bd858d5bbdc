// One MCP session: an SDK Server bound to one transport connection, answering from the shared
// ToolHost. Every connection gets its own, so clients never share protocol state.

import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  type LoggingLevel,
  type Progress,
  type ServerNotification,
  type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { log, onLog, writeLog, type LogLevel } from "../core/log.js";
import type { CallContext } from "./context.js";
import type { ToolHost } from "./host.js";

import { SERVER_VERSION } from "../version.js";

const LEVELS: LoggingLevel[] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

export interface Session {
  server: Server;
  close(): Promise<void>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export async function openSession(host: ToolHost, transport: Transport): Promise<Session> {
  // Prompts and resources are declared only when something offers them when the client connects.
  const offers = host.offers();
  const server = new Server(
    { name: host.config.server.name, version: host.config.server.version ?? SERVER_VERSION },
    {
      capabilities: {
        tools: { listChanged: true },
        logging: {},
        ...(offers.prompts ? { prompts: { listChanged: true } } : {}),
        ...(offers.resources ? { resources: { listChanged: true } } : {}),
      },
      instructions: "Tools implemented by WebAssembly modules. Call tools/list to see them; each tool's description names its module.",
    },
  );

  // Log lines reach a client only once it asked for them with logging/setLevel: a client that
  // pipes one request and reads one answer should see nothing else.
  let clientLevel: LoggingLevel | undefined;
  const wants = (level: LoggingLevel) => clientLevel !== undefined && LEVELS.indexOf(level) >= LEVELS.indexOf(clientLevel);
  const sendLog = (level: LoggingLevel, logger: string, data: string) => {
    if (!wants(level)) return;
    void server.sendLoggingMessage({ level, logger, data }).catch(() => {});
  };

  /**
   * What one request hands the host: cancellation, its id and _meta (plugins get them as their
   * context), and a route back to this client for the notifications the plugin sends while serving
   * it. Progress reaches only a request that asked for it, always under its own token, and only
   * forward: a value not above the last one sent is dropped.
   */
  const requestContext = (extra: Extra) => {
    const progressToken = extra._meta?.progressToken;
    let last = -Infinity;
    let fromPlugin = false;
    const sendProgress = (step: Progress): Promise<void> => {
      if (progressToken === undefined || step.progress <= last) return Promise.resolve();
      last = step.progress;
      const params = { progress: step.progress, total: step.total, message: step.message, progressToken };
      return extra.sendNotification({ method: "notifications/progress", params }).catch(() => {});
    };
    const ctx: CallContext = {
      signal: extra.signal,
      // Lines about this request reach this client only (and stderr), never other clients.
      log: (level, message) => {
        writeLog(level, message);
        sendLog(toMcpLevel(level), "wasmforge", message);
      },
      onStart: () => {
        if (!fromPlugin) void sendProgress({ progress: 0.5, total: 1, message: "running" });
      },
      request: { id: extra.requestId, meta: extra._meta },
      onNotify: (notification) => {
        if (notification.method === "notifications/message") {
          if (wants(notification.params.level)) void extra.sendNotification(notification).catch(() => {});
          return;
        }
        fromPlugin = true;
        void sendProgress(notification.params);
      },
    };
    return { ctx, sendProgress, pluginReportedProgress: () => fromPlugin };
  };
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    clientLevel = request.params.level;
    return {};
  });

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: host.listTools() }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { ctx, sendProgress, pluginReportedProgress } = requestContext(extra);
    await sendProgress({ progress: 0, total: 1 });
    const result = await host.callTool(request.params.name, request.params.arguments, ctx);
    // A plugin that reported its own progress has the last word on it.
    if (!pluginReportedProgress()) await sendProgress({ progress: 1, total: 1 });
    return result;
  });

  if (offers.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: host.listPrompts() }));
    server.setRequestHandler(GetPromptRequestSchema, (request, extra) =>
      host.getPrompt(request.params.name, request.params.arguments, requestContext(extra).ctx),
    );
  }
  if (offers.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: host.listResources() }));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: host.listResourceTemplates() }));
    server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
      host.readResource(request.params.uri, requestContext(extra).ctx),
    );
  }

  const stopListChanged = host.onToolsChanged(() => {
    void server.sendToolListChanged().catch((err: Error) => log.debug(`list_changed not delivered: ${err.message}`));
  });
  const stopOffersChanged = host.onOffersChanged((changed) => {
    const notDelivered = (err: Error) => log.debug(`list_changed not delivered: ${err.message}`);
    if (changed.prompts && offers.prompts) void server.sendPromptListChanged().catch(notDelivered);
    if (changed.resources && offers.resources) void server.sendResourceListChanged().catch(notDelivered);
  });
  const stopLogs = onLog((level, message) => sendLog(toMcpLevel(level), "wasmforge", message));
  const cleanup = () => {
    stopListChanged();
    stopOffersChanged();
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

function toMcpLevel(level: LogLevel): LoggingLevel {
  return level === "warn" ? "warning" : level;
}
