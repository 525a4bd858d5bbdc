import { findConfig, loadConfig } from "../config/load.js";
import { log } from "../core/log.js";
import { ToolHost } from "../server/host.js";
import { mcpServers, type McpServers } from "../server/mcp-server.js";
import { watchHost, type Watcher } from "../server/watch.js";
import { parseAddress } from "../transports/bind.js";
import type { Listener } from "../transports/listener.js";
import { serveStdio } from "../transports/stdio.js";

export interface ServeOptions {
  config?: string;
  /** Hot reload on config or module file changes (default on; --no-watch turns it off). */
  watch?: boolean;
  /** `[HOST:]PORT`, or true for a bare `--tcp` (127.0.0.1:8080). */
  tcp?: string | true;
  http?: string;
  /** Serve stdio as well as --tcp/--http. */
  stdio?: boolean;
  allowRemote?: boolean;
}

export async function serve(options: ServeOptions): Promise<void> {
  let host: ToolHost | undefined;
  let servers: McpServers | undefined;
  const listeners: Listener[] = [];
  let watcher: Watcher | undefined;

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) {
      // A second signal while calls are still finishing: the user wants out now.
      if (why.startsWith("SIG")) {
        log.warn(`${why} again: exiting without waiting for in-flight calls`);
        process.exit(1);
      }
      return;
    }
    stopping = true;
    log.info(`${why}: finishing in-flight calls, then exiting`);
    await watcher?.close();
    await Promise.all(listeners.map((l) => l.close()));
    servers?.close();
    await host?.close();
    // Let stdout flush the last responses before the process ends.
    process.stdout.write("", () => process.exit(0));
  };
  // Before anything slow starts (loading the modules, the watcher, the listeners): a signal during
  // start-up still shuts down cleanly instead of killing the process, which has no handler until then.
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  const file = findConfig(options.config);
  const config = loadConfig(file);
  // Bad addresses fail before any module loads.
  const tcp = options.tcp === undefined ? undefined : parseAddress(options.tcp === true ? "8080" : options.tcp, "--tcp");
  const http = options.http === undefined ? undefined : parseAddress(options.http, "--http");
  const stdio = options.stdio === true || (!tcp && !http);
  log.info(`config ${file}`);
  host = await ToolHost.start(config);
  if (stopping) return;
  servers = mcpServers(host, { requestStateKey: process.env.WASMFORGE_REQUEST_STATE_KEY || config.server.request_state_key });
  watcher = options.watch === false ? undefined : watchHost(host);
  await watcher?.ready;

  const allowRemote = options.allowRemote === true;
  const maxMessageBytes = config.server.max_message_kb * 1024;
  if (tcp) listeners.push(await (await import("../transports/tcp.js")).serveTcp(servers, { address: tcp, allowRemote, maxMessageBytes }));
  if (http) {
    listeners.push(
      await (await import("../transports/http.js")).serveHttp(host, servers, {
        address: http,
        allowRemote,
        token: process.env.WASMFORGE_TOKEN || config.server.token,
        allowedHosts: config.server.allowed_hosts,
        maxBodyBytes: config.server.max_body_kb * 1024,
        maxSessions: config.server.max_sessions,
        adminToken: process.env.WASMFORGE_ADMIN_TOKEN || config.server.admin_token,
      }),
    );
  }
  if (stdio) {
    // stdin closing ends the process only when nothing else is being served.
    const onInputEnd = tcp || http ? () => log.info("stdin closed; still serving the network listeners") : () => void shutdown("stdin closed");
    listeners.push(serveStdio(servers, maxMessageBytes, onInputEnd));
  }
  // A bug in one request must not take every client down with it: log it and keep serving.
  process.on("uncaughtException", (err) => log.error(`internal error (still serving): ${err.stack ?? err.message}`));
  process.on("unhandledRejection", (err) => log.error(`internal error (still serving): ${(err as Error)?.stack ?? String(err)}`));
}
