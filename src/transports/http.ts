// MCP Streamable HTTP at /mcp, both protocol eras, chosen per request:
//  - a 2026-07-28 request (the _meta envelope) is served statelessly by the v2 SDK's
//    createMcpHandler: no session, so any process serving the same config can answer it; change
//    notifications reach subscriptions/listen streams through the handler's event bus;
//  - a 2025 `initialize` starts a stateful session (mcp-session-id), so list_changed and log
//    messages reach that client over its GET stream, and requests with the session id come back to
//    it; its streams can be resumed with Last-Event-ID (event-store.ts); a claim-less POST without
//    a session (curl) is answered statelessly.
// Checks run cheapest first and before any body is read: Host/Origin (DNS rebinding), path, bearer
// token, method. The admin API (src/admin/) answers /admin/* and WASImancer's plugin routes.

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { toNodeHandler } from "@modelcontextprotocol/node";
import {
  InMemoryServerEventBus,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  WebStandardStreamableHTTPServerTransport,
  type Server,
  type ServerEventBus,
} from "@modelcontextprotocol/server";
import { ADMIN_MODULES_PATH, adminRouter, isAdminPath } from "../admin/router.js";
import type { ManagedStore } from "../admin/store.js";
import { log, writeLog } from "../core/log.js";
import { isLoopback } from "../core/loopback.js";
import type { ToolHost } from "../server/host.js";
import type { McpServers } from "../server/mcp-server.js";
import { serverMetrics } from "../server/metrics.js";
import { BindError, checkExposure, formatAddress, listen, type Address } from "./bind.js";
import { SessionEventStore } from "./event-store.js";
import { checkParamHeaders } from "./http-params.js";
import type { Listener } from "./listener.js";
import { tokenChecker } from "./token.js";

export interface HttpOptions {
  address: Address;
  allowRemote: boolean;
  /** Bearer token clients must send; required when the address is not loopback. */
  token?: string;
  /** Host names (or host:port) accepted in Host/Origin besides the loopback names. */
  allowedHosts: string[];
  maxBodyBytes: number;
  /** At most this many 2025 sessions are open at once. */
  maxSessions: number;
  /** Turns the admin API on; it must differ from `token`. */
  adminToken?: string;
  /** Where the admin API keeps its changes (default: the managed file beside the config). */
  store?: ManagedStore;
  /** The bus `subscriptions/listen` streams hear changes on (default: this process's own). */
  bus?: ServerEventBus;
  /** Prefixes the 2025 session ids this process issues, so a load balancer can route them back. */
  replicaId?: string;
  /** What /readyz reports besides draining; absent: ready once serving. */
  readiness?: () => Readiness;
  /** Serve /metrics; `public`: without the token and the Host check (for a scraper on a private network). */
  metrics?: { public: boolean; clusterConnected?: () => boolean };
  /** On close, how long in-flight requests may take to finish before they are cut off. */
  drainMs?: number;
}

export interface Readiness {
  ready: boolean;
  /** One line per check, e.g. modules: "3 loaded, 1 failed", cluster: "caught up (version 7)". */
  checks: Record<string, string>;
}

export const MCP_PATH = "/mcp";
export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";
export const METRICS_PATH = "/metrics";
const DEFAULT_DRAIN_MS = 10_000;
const KEEP_ALIVE_MS = 75_000;

/** A 2025 session nobody has used for this long (and with no open stream) is closed. */
const IDLE_SESSION_MS = 30 * 60_000;
/** How long a 2025 client whose stream broke should wait before it reconnects (the SSE `retry` field). */
const RECONNECT_AFTER_MS = 1000;

interface LegacySession {
  server: Server;
  transport: WebStandardStreamableHTTPServerTransport;
  lastSeen: number;
  /** GET notification streams open now. */
  streams: number;
}

export async function serveHttp(host: ToolHost, servers: McpServers, options: HttpOptions): Promise<Listener> {
  const where = `http://${formatAddress(options.address)}${MCP_PATH}`;
  if (!isLoopback(options.address.host) && !options.token) {
    throw new BindError(`refusing to serve ${where} without a token: set WASMFORGE_TOKEN or [server] token, which clients then send as "Authorization: Bearer <token>"`);
  }
  if (options.adminToken !== undefined && options.adminToken === options.token) {
    throw new BindError("refusing to serve the admin API with the same token as clients: set WASMFORGE_ADMIN_TOKEN (or [server] admin_token) to a different secret");
  }
  checkExposure("http", options.address, options.allowRemote, log.warn);
  const admin = options.adminToken === undefined ? undefined : adminRouter(host, tokenChecker(options.adminToken), options.store);
  const hostAllowed = hostAllowlist(options.address, options.allowedHosts);
  const checkToken = options.token === undefined ? undefined : tokenChecker(options.token);
  const onerror = (err: Error) => writeLog("debug", `http: ${err.message}`);

  // Each listen stream subscribes to the bus once: counting subscriptions counts the streams.
  let listenStreams = 0;
  const bus = countingBus(options.bus ?? new InMemoryServerEventBus(onerror), (delta) => (listenStreams += delta));
  const modern = createMcpHandler(servers.request, { legacy: "reject", onerror, maxRequestBodySize: options.maxBodyBytes, bus });
  const detachBus = servers.attachBus(modern.bus);
  const stateless = legacyStatelessFallback(servers.request, onerror, { maxRequestBodySize: options.maxBodyBytes });
  const sessions = new Map<string, LegacySession>();

  const legacy = async (request: Request, parsedBody: unknown): Promise<Response> => {
    const id = request.headers.get("mcp-session-id");
    if (id !== null) {
      const session = sessions.get(id);
      if (!session) return jsonRpcError(404, -32001, "Session not found: start a new one with initialize");
      session.lastSeen = Date.now();
      if (request.method === "GET") {
        session.streams++;
        request.signal.addEventListener("abort", () => session.streams--, { once: true });
        return releasedOnAbort(await session.transport.handleRequest(request, { parsedBody }), request.signal, true);
      }
      return releasedOnAbort(await session.transport.handleRequest(request, { parsedBody }), request.signal);
    }
    if (request.method === "POST" && parsedBody !== undefined && isInitializeRequest(parsedBody)) return openSession(request, parsedBody);
    if (request.method !== "POST") return jsonRpcError(400, -32000, "Bad Request: no mcp-session-id header; start a session with an initialize request");
    // A claim-less request with no session (e.g. curl tools/list): answered on its own.
    return stateless(request, { parsedBody });
  };

  const openSession = async (request: Request, parsedBody: unknown): Promise<Response> => {
    if (sessions.size >= options.maxSessions && !evictIdleSession()) {
      return jsonRpcError(503, -32000, `too many open sessions (${options.maxSessions}, [server] max_sessions); try again later`);
    }
    const server = (await servers.connection({ era: "legacy", requestInfo: request })) as Server;
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: options.replicaId ? () => `${options.replicaId}.${randomUUID()}` : randomUUID,
      eventStore: new SessionEventStore(),
      retryInterval: RECONNECT_AFTER_MS,
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport, lastSeen: Date.now(), streams: 0 });
        writeLog("debug", `http session ${id}: opened (${sessions.size} open)`);
      },
      onsessionclosed: (id) => void forget(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) void forget(transport.sessionId);
    };
    await server.connect(transport);
    const response = await transport.handleRequest(request, { parsedBody });
    // An initialize the transport refused leaves a session nobody can reach.
    if (transport.sessionId === undefined) await server.close();
    return response;
  };

  const forget = async (id: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    writeLog("debug", `http session ${id}: closed (${sessions.size} open)`);
    await session.server.close().catch(() => undefined);
  };

  /** Makes room by closing the session least recently used that has no open stream. */
  const evictIdleSession = (): boolean => {
    let oldest: [string, LegacySession] | undefined;
    for (const entry of sessions) if (entry[1].streams === 0 && (!oldest || entry[1].lastSeen < oldest[1].lastSeen)) oldest = entry;
    if (!oldest) return false;
    void forget(oldest[0]);
    return true;
  };

  const mcp = async (request: Request, res: ServerResponse): Promise<Response> => {
    let parsedBody: unknown;
    if (request.method === "POST") {
      const text = await request.clone().text();
      try {
        parsedBody = text === "" ? undefined : JSON.parse(text);
      } catch {
        return jsonRpcError(400, -32700, "Parse error: the body is not valid JSON");
      }
      // A listen stream is no call in flight: shutdown ends it (gracefully) rather than waits for it.
      if ((parsedBody as { method?: unknown } | undefined)?.method === "subscriptions/listen") untrack(res);
    }
    if (await isLegacyRequest(request, parsedBody)) return legacy(request, parsedBody);
    const mismatch = checkParamHeaders(request, parsedBody, (name) => host.current.tools.get(name)?.tool.inputSchema);
    if (mismatch) return mismatch;
    return modern.fetch(request, { parsedBody });
  };
  const nodeOptions = { onerror, maxRequestBodySize: options.maxBodyBytes };
  const mcpHandler = (req: IncomingMessage, res: ServerResponse) => toNodeHandler({ fetch: (request: Request) => mcp(request, res) }, nodeOptions)(req, res);

  /** Settles when each in-flight POST has been answered: shutdown waits for these. */
  const inFlight = new Map<ServerResponse, Promise<void>>();
  let stopping = false;
  const trackAnswer = (res: ServerResponse) => {
    const answered = new Promise<void>((resolve) => res.once("close", resolve));
    inFlight.set(res, answered);
    void answered.then(() => inFlight.delete(res));
  };
  const untrack = (res: ServerResponse) => void inFlight.delete(res);

  const metrics =
    options.metrics &&
    serverMetrics({
      host,
      replicaId: options.replicaId,
      clusterConnected: options.metrics.clusterConnected,
      connections: () => ({ sessions: sessions.size, getStreams: [...sessions.values()].reduce((n, s) => n + s.streams, 0), listenStreams }),
    });
  const metricsPublic = options.metrics?.public === true;

  /** /healthz, /readyz and /metrics: answered without reading a body; /readyz and /healthz carry no tool data. */
  const operational = async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> => {
    if (pathname === HEALTH_PATH) {
      replyJson(res, 200, { status: stopping ? "draining" : "ok" });
      return true;
    }
    if (pathname === READY_PATH) {
      const readiness = options.readiness?.() ?? { ready: true, checks: {} };
      const ready = readiness.ready && !stopping;
      const checks = stopping ? { ...readiness.checks, draining: "shutting down: not taking new requests" } : readiness.checks;
      replyJson(res, ready ? 200 : 503, { ready, checks });
      return true;
    }
    if (pathname === METRICS_PATH && metrics) {
      if (!metricsPublic) {
        const refused = checkHeaders(req, hostAllowed);
        if (refused) {
          reply(res, 403, refused);
          return true;
        }
        if (checkToken && checkToken(req.headers.authorization) !== "ok") {
          reply(res, 401, "Unauthorized: /metrics takes the client token (Authorization: Bearer <token>), unless [server] metrics_public = true", {
            "www-authenticate": 'Bearer realm="wasmforge"',
          });
          return true;
        }
      }
      res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" });
      res.end(await metrics.registry.metrics());
      return true;
    }
    return false;
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    // Probes come from the orchestrator, by address: no Host check for what carries no data.
    if (req.method === "GET" && (await operational(req, res, pathname))) return;
    const refused = checkHeaders(req, hostAllowed);
    if (refused) return reply(res, 403, refused);
    if (isAdminPath(pathname)) {
      if (!admin) return reply(res, 404, "not found: the admin API is off; set WASMFORGE_ADMIN_TOKEN or [server] admin_token to turn it on");
      if (stopping) return reply(res, 503, "the server is shutting down", { connection: "close" });
      trackAnswer(res);
      return admin(req, res, pathname);
    }
    if (pathname !== MCP_PATH) return reply(res, 404, `not found: MCP is served at ${MCP_PATH}`);
    if (checkToken) {
      const verdict = checkToken(req.headers.authorization);
      if (verdict !== "ok") {
        const challenge = verdict === "missing" ? 'Bearer realm="wasmforge"' : 'Bearer realm="wasmforge", error="invalid_token"';
        return reply(res, 401, verdict === "missing" ? "Unauthorized: send Authorization: Bearer <token>" : "Unauthorized: wrong token", {
          "www-authenticate": challenge,
        });
      }
    }
    if (req.method !== "POST" && req.method !== "GET" && req.method !== "DELETE") {
      return reply(res, 405, `method ${req.method} not allowed`, { allow: "GET, POST, DELETE" });
    }
    if (stopping) return reply(res, 503, "the server is shutting down", { connection: "close" });
    if (req.method === "POST") trackAnswer(res);
    if (Number(req.headers["content-length"]) > options.maxBodyBytes) {
      return reply(res, 413, `request body larger than the ${options.maxBodyBytes}-byte limit ([server] max_body_kb)`, { connection: "close" });
    }
    // Answered only once the checks above passed: the client sends its body after this.
    if (/^100-continue$/i.test(req.headers.expect ?? "")) res.writeContinue();
    // nginx (and proxies that honour it) pass event streams through unbuffered.
    res.setHeader("x-accel-buffering", "no");
    await mcpHandler(req, res);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((err: Error) => {
      // A client that went away is no server error.
      if (res.destroyed) return writeLog("debug", `http ${req.method} ${req.url}: ${err.message}`);
      log.error(`http ${req.method} ${req.url}: ${err.stack ?? err.message}`);
      if (!res.headersSent) reply(res, 500, "internal error");
      else res.destroy();
    });
  };
  const server = createServer(handle);
  // A proxy in front keeps idle connections open for reuse (nginx: 60 s). Were this side to close
  // one first (Node's default is after 5 s), a request the proxy sends on it as it closes fails
  // with 502: idle connections stay open longer than any proxy keeps them.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  // Expect: 100-continue is answered by the route, after the token checks, not by Node up front.
  server.on("checkContinue", handle);

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, session] of sessions) {
      if (session.streams === 0 && now - session.lastSeen > IDLE_SESSION_MS) {
        writeLog("debug", `http session ${id}: idle, closing`);
        void forget(id);
      }
    }
  }, 60_000);
  sweep.unref();

  const bound = await listen(server, options.address, "http");
  log.info(`listening on http://${formatAddress(bound)}${MCP_PATH} (MCP Streamable HTTP${checkToken ? ", bearer token required" : ""})`);
  if (admin) log.info(`admin API on http://${formatAddress(bound)}${ADMIN_MODULES_PATH} (admin token required)`);

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        stopping = true;
        clearInterval(sweep);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Idle keep-alive connections (a load balancer's) close now, so it sends elsewhere.
        server.closeIdleConnections();
        await drain([...inFlight.values()], options.drainMs ?? DEFAULT_DRAIN_MS);
        // Ends every listen stream (with its graceful result, so clients listen again elsewhere),
        // any call still running past the grace period, and every 2025 session's GET stream.
        detachBus();
        await modern.close();
        await Promise.all([...sessions.keys()].map(forget));
        server.closeAllConnections();
        await stopped;
        metrics?.close();
      })()),
  };
}

const STREAM_OPENED = new TextEncoder().encode(": stream opened\n\n");

/**
 * A session's stream the client went away from is given up at once, so the session forgets it and
 * the client can resume it with Last-Event-ID straight away (toNodeHandler alone notices the client
 * left only when the next event is written, which may be the keep-alive 15 s later).
 * `opened`: a notification stream starts with an SSE comment, because Node sends a response's
 * headers with its first bytes and the SDK may send nothing until its first keep-alive (15 s).
 */
function releasedOnAbort(response: Response, signal: AbortSignal, opened = false): Response {
  const body = response.body;
  if (!body) return response;
  const announce = opened && response.ok && response.headers.get("content-type")?.includes("text/event-stream");
  const reader = body.getReader();
  const release = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener("abort", release, { once: true });
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (announce) controller.enqueue(STREAM_OPENED);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (!done) return controller.enqueue(value);
      signal.removeEventListener("abort", release);
      controller.close();
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(stream, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** Waits for the answers in flight, at most `ms`; says how many were cut off. */
async function drain(answers: Promise<void>[], ms: number): Promise<void> {
  if (answers.length === 0) return;
  log.info(`waiting for ${answers.length} request${answers.length === 1 ? "" : "s"} in flight (at most ${ms} ms, [server] drain_ms)`);
  let left = answers.length;
  for (const answer of answers) void answer.then(() => left--);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"expired">((resolve) => (timer = setTimeout(() => resolve("expired"), ms)));
  const outcome = await Promise.race([Promise.all(answers), expired]);
  clearTimeout(timer);
  if (outcome === "expired") log.warn(`${left} request${left === 1 ? "" : "s"} still running after ${ms} ms ([server] drain_ms): cut off`);
}

/** The bus, counting who subscribes: `subscriptions/listen` streams, one subscription each. */
function countingBus(bus: ServerEventBus, count: (delta: 1 | -1) => void): ServerEventBus {
  return {
    publish: (event) => bus.publish(event),
    subscribe(listener) {
      const unsubscribe = bus.subscribe(listener);
      count(1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        count(-1);
        unsubscribe();
      };
    },
  };
}

/** A probe's answer: JSON, never cached. */
function replyJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}

/** A JSON-RPC error body, as the SDK's entries answer their own errors. */
function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = -32000): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

/**
 * DNS-rebinding protection: a web page whose name resolves to this machine still sends its own
 * name as Host and Origin, so only names we expect are served. (The SDK's validators know only the
 * localhost names; this one also takes the bind address and [server] allowed_hosts, and its
 * refusal names the setting to change.)
 */
function hostAllowlist(bind: Address, extra: string[]): (value: string) => boolean {
  const allowed = new Set(extra.map((h) => h.toLowerCase()));
  if (bind.host !== "0.0.0.0" && bind.host !== "::") allowed.add(bind.host.toLowerCase());
  return (value) => {
    const hostPort = value.toLowerCase();
    if (!/^[a-z0-9.\-:[\]]+$/.test(hostPort)) return false;
    let hostname: string;
    try {
      hostname = new URL(`http://${hostPort}`).hostname.replace(/^\[(.*)\]$/, "$1");
    } catch {
      return false;
    }
    return isLoopback(hostname) || allowed.has(hostname) || allowed.has(hostPort);
  };
}

/** Why the Host or Origin header is refused, or undefined when both are acceptable. */
function checkHeaders(req: IncomingMessage, allowed: (value: string) => boolean): string | undefined {
  const hostHeader = req.headers.host;
  if (!hostHeader || !allowed(hostHeader)) {
    return `Forbidden: Host "${hostHeader ?? ""}" is not allowed; add it to [server] allowed_hosts to serve it`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let originHost: string | undefined;
  try {
    const url = new URL(origin);
    if (url.protocol === "http:" || url.protocol === "https:") originHost = url.host;
  } catch {
    // "null" and other opaque origins
  }
  if (!originHost || !allowed(originHost)) {
    return `Forbidden: Origin "${origin}" is not allowed; add its host to [server] allowed_hosts to serve it`;
  }
  return undefined;
}
