// MCP Streamable HTTP at /mcp, stateful: every `initialize` gets its own SDK transport and session,
// found again by the `mcp-session-id` header, so notifications (list_changed, log messages) reach
// each client over its own GET stream. Checks run cheapest first and before any body is read:
// Host/Origin (DNS rebinding), path, bearer token, method, then the body size. The admin API
// (src/admin/) answers /admin/* and WASImancer's plugin routes, with its own token.

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { ADMIN_MODULES_PATH, adminRouter, isAdminPath } from "../admin/router.js";
import { log } from "../core/log.js";
import type { ToolHost } from "../server/host.js";
import { openSession, type Session } from "../server/session.js";
import { isLoopback } from "../core/loopback.js";
import { BindError, checkExposure, formatAddress, listen, type Address } from "./bind.js";
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
  /** Turns the admin API on; it must differ from `token`. */
  adminToken?: string;
}

export const MCP_PATH = "/mcp";

/** A session nobody has used for this long (and with no open stream) is closed. */
const IDLE_SESSION_MS = 30 * 60_000;

interface HttpSession {
  transport: StreamableHTTPServerTransport;
  session: Session;
  /** Responses still open (POSTs being answered, the GET notification stream). */
  open: number;
  lastSeen: number;
}

export async function serveHttp(host: ToolHost, options: HttpOptions): Promise<Listener> {
  const where = `http://${formatAddress(options.address)}${MCP_PATH}`;
  if (!isLoopback(options.address.host) && !options.token) {
    throw new BindError(`refusing to serve ${where} without a token: set WASMFORGE_TOKEN or [server] token, which clients then send as "Authorization: Bearer <token>"`);
  }
  if (options.adminToken !== undefined && options.adminToken === options.token) {
    throw new BindError("refusing to serve the admin API with the same token as clients: set WASMFORGE_ADMIN_TOKEN (or [server] admin_token) to a different secret");
  }
  checkExposure("http", options.address, options.allowRemote, log.warn);
  const admin = options.adminToken === undefined ? undefined : adminRouter(host, tokenChecker(options.adminToken));
  const hostAllowed = hostAllowlist(options.address, options.allowedHosts);
  const checkToken = options.token === undefined ? undefined : tokenChecker(options.token);

  const sessions = new Map<string, HttpSession>();
  /** Settles when each in-flight POST has been answered: shutdown waits for these. */
  const inFlight = new Set<Promise<void>>();
  let stopping = false;

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const refused = checkHeaders(req, hostAllowed);
    if (refused) return reply(res, 403, refused);
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    if (isAdminPath(pathname)) {
      if (!admin) return reply(res, 404, "not found: the admin API is off; set WASMFORGE_ADMIN_TOKEN or [server] admin_token to turn it on");
      if (stopping) return reply(res, 503, "the server is shutting down", { connection: "close" });
      trackAnswer(res);
      return admin(req, res, pathname);
    }
    if (pathname !== MCP_PATH) {
      return reply(res, 404, `not found: MCP is served at ${MCP_PATH}`);
    }
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
    let body: unknown;
    if (req.method === "POST") {
      // Answered only once the checks above passed: the client sends its body after this.
      if (/^100-continue$/i.test(req.headers.expect ?? "")) res.writeContinue();
      const read = await readBody(req, options.maxBodyBytes);
      if (read === undefined) {
        return reply(res, 413, `request body larger than the ${options.maxBodyBytes}-byte limit ([server] max_body_kb)`, { connection: "close" });
      }
      try {
        body = JSON.parse(read);
      } catch {
        return reply(res, 400, "Parse error: the body is not valid JSON", {}, -32700);
      }
    }

    const id = req.headers["mcp-session-id"];
    if (typeof id === "string") {
      const entry = sessions.get(id);
      if (!entry) return reply(res, 404, "Session not found: start a new one with initialize", {}, -32001);
      return handleIn(entry, req, res, body);
    }
    if (req.method === "POST" && (Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body))) {
      return startSession(req, res, body);
    }
    return reply(res, 400, "Bad Request: no mcp-session-id header; start a session with an initialize request");
  };

  const trackAnswer = (res: ServerResponse) => {
    const answered = new Promise<void>((resolve) => res.once("close", resolve));
    inFlight.add(answered);
    void answered.then(() => inFlight.delete(answered));
  };

  const handleIn = async (entry: HttpSession, req: IncomingMessage, res: ServerResponse, body: unknown) => {
    entry.open++;
    entry.lastSeen = Date.now();
    res.once("close", () => {
      entry.open--;
      entry.lastSeen = Date.now();
    });
    await entry.transport.handleRequest(req, res, body);
  };

  const startSession = async (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    let entry: HttpSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        if (entry) sessions.set(id, entry);
        log.debug(`http session ${id}: opened (${sessions.size} open)`);
      },
    });
    // Set before openSession, which chains it: a DELETE or shutdown forgets the session.
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && sessions.delete(id)) log.debug(`http session ${id}: closed (${sessions.size} open)`);
    };
    entry = { transport, session: await openSession(host, transport), open: 0, lastSeen: Date.now() };
    await handleIn(entry, req, res, body);
    // An initialize the transport refused leaves a session nobody can reach.
    if (transport.sessionId === undefined) await entry.session.close();
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((err: Error) => {
      // A client that went away is no server error.
      if (res.destroyed) return log.debug(`http ${req.method} ${req.url}: ${err.message}`);
      log.error(`http ${req.method} ${req.url}: ${err.stack ?? err.message}`);
      if (!res.headersSent) reply(res, 500, "internal error");
      else res.destroy();
    });
  };
  const server = createServer(handle);
  // Expect: 100-continue is answered by the route, after the token checks, not by Node up front.
  server.on("checkContinue", handle);

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, entry] of sessions) {
      if (entry.open === 0 && now - entry.lastSeen > IDLE_SESSION_MS) {
        log.debug(`http session ${id}: idle, closing`);
        void entry.session.close();
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
        await Promise.all(inFlight);
        // Closing a session ends its GET stream; then no connection has anything left to say.
        await Promise.all([...sessions.values()].map((entry) => entry.session.close()));
        server.closeAllConnections();
        await stopped;
      })()),
  };
}

/** A JSON-RPC error body, as the SDK's transport answers its own errors. */
function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = -32000): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

/** The body as text, or undefined when it is over `max` bytes (declared or actual). */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"]) > max) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      req.off("data", onData);
      req.pause();
      resolve(undefined);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
    // A client gone mid-body: settles nothing if the body was already complete.
    req.once("close", () => reject(new Error("the client closed the connection before sending the whole body")));
  });
}

/**
 * DNS-rebinding protection: a web page whose name resolves to this machine still sends its own
 * name as Host and Origin, so only names we expect are served.
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
