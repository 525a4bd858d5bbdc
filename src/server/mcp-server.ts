// The MCP servers WasmForge hands the v2 SDK's serving entries: one low-level Server per stdio or
// TCP connection, per 2025 HTTP session, or per stateless HTTP request, all answering from the one
// ToolHost. Both protocol eras are served by the same handlers; the entries choose the era from the
// client's opening message. Changes (a reload) reach connections and 2025 sessions through their
// own Server, and 2026 HTTP listen streams through the event bus.

import {
  CLIENT_CAPABILITIES_META_KEY,
  LOG_LEVEL_META_KEY,
  Server,
  type CacheHint,
  type LoggingLevel,
  type McpServerFactory,
  type Progress,
  type ServerContext,
  type ServerEventBus,
} from "@modelcontextprotocol/server";
import { onLog, writeLog, type LogLevel } from "../core/log.js";
import { SERVER_VERSION } from "../version.js";
import { errorResult } from "./call-tool.js";
import type { CallContext } from "./context.js";
import { ProtocolError } from "./errors.js";
import type { ToolHost } from "./host.js";
import { INPUT_ROUND_META, inputRounds, inputSubject, NeedsInput } from "./input.js";

const LEVELS: LoggingLevel[] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/**
 * List results may be cached by 2026-07-28 clients this long. Short, because a reload changes them:
 * a client listening on subscriptions/listen hears the change at once, and one that does not
 * re-lists within seconds. The lists are the same for every client ("public"); a resource's
 * contents may not be (plugins answer per request), so reads are not cached.
 */
export const LIST_TTL_MS = 5000;
const listHint: CacheHint = { ttlMs: LIST_TTL_MS, cacheScope: "public" };
const CACHE_HINTS = {
  "tools/list": listHint,
  "prompts/list": listHint,
  "resources/list": listHint,
  "resources/templates/list": listHint,
  "server/discover": listHint,
  "resources/read": { ttlMs: 0, cacheScope: "private" },
} satisfies Record<string, CacheHint>;

export interface McpServers {
  /** For a stdio or TCP connection, or a 2025 HTTP session: it hears reloads and server-wide logs. */
  connection: McpServerFactory;
  /** For one stateless HTTP request. */
  request: McpServerFactory;
  /** Reloads are published on this bus too (2026 HTTP listen streams read from it). */
  attachBus(bus: ServerEventBus): () => void;
  close(): void;
}

export interface McpServersOptions {
  /** Signs requestState across rounds of a call that asks its client; replicas must share it. */
  requestStateKey?: string;
}

export function mcpServers(host: ToolHost, options: McpServersOptions = {}): McpServers {
  const rounds = inputRounds(options.requestStateKey);
  /** Long-lived servers, and the log level each one's (2025) client asked for, if any. */
  const live = new Map<Server, { level?: LoggingLevel }>();
  const buses = new Set<ServerEventBus>();

  const everyone = (send: (server: Server) => Promise<void>, event: Parameters<ServerEventBus["publish"]>[0]) => {
    for (const server of live.keys()) send(server).catch((err: Error) => writeLog("debug", `change not delivered: ${err.message}`));
    for (const bus of buses) bus.publish(event);
  };
  const stopTools = host.onToolsChanged(() => everyone((s) => s.sendToolListChanged(), { kind: "tools_list_changed" }));
  const stopOffers = host.onOffersChanged((changed) => {
    if (changed.prompts) everyone((s) => s.sendPromptListChanged(), { kind: "prompts_list_changed" });
    if (changed.resources) everyone((s) => s.sendResourceListChanged(), { kind: "resources_list_changed" });
  });
  // Server-wide lines (reloads, load failures) reach the 2025 clients that asked for log messages.
  const stopLogs = onLog((level, message) => {
    for (const [server, state] of live) {
      if (state.level && allows(state.level, toMcpLevel(level))) {
        server.sendLoggingMessage({ level: toMcpLevel(level), logger: "wasmforge", data: message }).catch(() => undefined);
      }
    }
  });

  const build = (longLived: boolean): McpServerFactory => (factoryContext) => {
    const server = new Server(
      { name: host.config.server.name, version: host.config.server.version ?? SERVER_VERSION },
      {
        // Prompts and resources are always declared, so a reload can add the first ones to a
        // connection that is already open.
        capabilities: {
          tools: { listChanged: true },
          prompts: { listChanged: true },
          resources: { listChanged: true },
          logging: {},
        },
        instructions: "Tools implemented by WebAssembly modules. Call tools/list to see them; each tool's description names its module.",
        cacheHints: CACHE_HINTS,
        requestState: { verify: rounds.verify },
      },
    );
    const state: { level?: LoggingLevel } = {};
    if (longLived) {
      live.set(server, state);
      const previous = server.onclose;
      server.onclose = () => {
        live.delete(server);
        previous?.();
      };
    }
    server.onerror = (err) => writeLog("debug", `session error: ${err.message}`);
    const modern = factoryContext.era === "modern";

    // 2025 clients set their level once for the connection; a client that never asks gets no log
    // messages (a piped request reads exactly one answer). 2026 requests carry their own level.
    server.setRequestHandler("logging/setLevel", (request) => {
      state.level = request.params.level;
      return {};
    });
    const levelFor = (ctx: ServerContext): LoggingLevel | undefined =>
      modern ? ((ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[LOG_LEVEL_META_KEY] as LoggingLevel | undefined) : state.level;

    /** What one request hands the host (see server/context.ts). */
    const requestContext = (ctx: ServerContext, subject?: () => string) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      let last = -Infinity;
      let fromPlugin = false;
      const sendProgress = (step: Progress): Promise<void> => {
        // Only forward, and only to a request that asked for progress.
        if (progressToken === undefined || step.progress <= last) return Promise.resolve();
        last = step.progress;
        const params = { progress: step.progress, total: step.total, message: step.message, progressToken };
        return ctx.mcpReq.notify({ method: "notifications/progress", params }).catch(() => undefined);
      };
      const sendLog = (level: LoggingLevel, data: unknown, logger = "wasmforge") => {
        const threshold = levelFor(ctx);
        if (!threshold || !allows(threshold, level)) return;
        void ctx.mcpReq.notify({ method: "notifications/message", params: { level, logger, data } }).catch(() => undefined);
      };
      const round = subject === undefined ? undefined : rounds.current(ctx, subject);
      const callCtx: CallContext = {
        signal: ctx.mcpReq.signal,
        // Only plugins that describe themselves read it: worked out when they do.
        request: {
          id: ctx.mcpReq.id,
          get meta() {
            return pluginMeta(ctx, server, round?.number);
          },
        },
        answers: round?.answers,
        onStart: () => {
          if (!fromPlugin) void sendProgress({ progress: 0.5, total: 1, message: "running" });
        },
        onNotify: (notification) => {
          if (notification.method === "notifications/message") {
            return sendLog(notification.params.level, notification.params.data, notification.params.logger);
          }
          fromPlugin = true;
          void sendProgress(notification.params);
        },
        // Lines about this request reach this client only (and stderr), never other clients.
        log: (level, message) => {
          writeLog(level, message);
          sendLog(toMcpLevel(level), message);
        },
      };
      return { callCtx, sendProgress, pluginReportedProgress: () => fromPlugin };
    };

    /** A request that may ask the client: NeedsInput becomes an input_required result. */
    const mayAsk = async <T>(ctx: ServerContext, subject: () => string, run: () => Promise<T>) => {
      try {
        return await run();
      } catch (err) {
        if (err instanceof NeedsInput) return rounds.ask(ctx, subject(), err);
        throw err;
      }
    };

    server.setRequestHandler("tools/list", () => ({ tools: host.listTools() }));
    server.setRequestHandler("tools/call", async (request, ctx) => {
      const { name, arguments: args } = request.params;
      const subject = () => inputSubject("tools/call", name, args);
      const { callCtx, sendProgress, pluginReportedProgress } = requestContext(ctx, subject);
      const wantsProgress = ctx.mcpReq._meta?.progressToken !== undefined;
      return mayAsk(ctx, subject, async () => {
        if (wantsProgress) await sendProgress({ progress: 0, total: 1 });
        try {
          const result = await host.callTool(name, args, callCtx);
          // A plugin that reported its own progress has the last word on it.
          if (wantsProgress && !pluginReportedProgress()) await sendProgress({ progress: 1, total: 1 });
          return result;
        } catch (err) {
          // Protocol errors (an unknown tool) stay JSON-RPC errors; anything else the tool did is a tool error.
          if (err instanceof ProtocolError || err instanceof NeedsInput || ctx.mcpReq.signal.aborted) throw err;
          writeLog("error", `tools/call ${name}: ${(err as Error).stack ?? String(err)}`);
          return errorResult(`tool "${name}" failed: ${(err as Error).message}`);
        }
      });
    });
    server.setRequestHandler("prompts/list", () => ({ prompts: host.listPrompts() }));
    server.setRequestHandler("prompts/get", (request, ctx) => {
      const subject = () => inputSubject("prompts/get", request.params.name, request.params.arguments);
      return mayAsk(ctx, subject, () => host.getPrompt(request.params.name, request.params.arguments, requestContext(ctx, subject).callCtx));
    });
    server.setRequestHandler("resources/list", () => ({ resources: host.listResources() }));
    server.setRequestHandler("resources/templates/list", () => ({ resourceTemplates: host.listResourceTemplates() }));
    server.setRequestHandler("resources/read", (request, ctx) => {
      const subject = () => inputSubject("resources/read", request.params.uri, {});
      return mayAsk(ctx, subject, () => host.readResource(request.params.uri, requestContext(ctx, subject).callCtx));
    });
    return server;
  };

  return {
    connection: build(true),
    request: build(false),
    attachBus(bus) {
      buses.add(bus);
      return () => buses.delete(bus);
    },
    close() {
      stopTools();
      stopOffers();
      stopLogs();
    },
  };
}

/**
 * The `_meta` a self-describing plugin receives in its context: the request's own, plus the
 * envelope of a 2026 request, and for a 2025 client the capabilities it declared, under the same
 * key, so a plugin can see what it may ask in either era; and for a request that may ask, the
 * round of questions this run is (server/input.ts).
 */
function pluginMeta(ctx: ServerContext, server: Server, round?: number): Record<string, unknown> {
  const meta: Record<string, unknown> = { ...ctx.mcpReq._meta, ...ctx.mcpReq.envelope };
  if (meta[CLIENT_CAPABILITIES_META_KEY] === undefined) {
    const capabilities = server.getClientCapabilities();
    if (capabilities) meta[CLIENT_CAPABILITIES_META_KEY] = capabilities;
  }
  if (round !== undefined) meta[INPUT_ROUND_META] = round;
  return meta;
}

function allows(threshold: LoggingLevel, level: LoggingLevel): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(threshold);
}

function toMcpLevel(level: LogLevel): LoggingLevel {
  return level === "warn" ? "warning" : level;
}
