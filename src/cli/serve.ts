import type { Cluster } from "../cluster/index.js";
import { findConfig, loadConfig } from "../config/load.js";
import { log, setLogFields } from "../core/log.js";
import { ToolHost } from "../server/host.js";
import { mcpServers, type McpServers } from "../server/mcp-server.js";
import { watchHost, type Watcher } from "../server/watch.js";
import { BindError, parseAddress } from "../transports/bind.js";
import type { Readiness } from "../transports/http.js";
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
  /** This replica's name behind a load balancer (else $WASMFORGE_REPLICA_ID, else [cluster] replica_id). */
  replicaId?: string;
}

const REPLICA_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

export async function serve(options: ServeOptions): Promise<void> {
  const listeners: Listener[] = [];
  let watcher: Watcher | undefined;
  let host: ToolHost | undefined;
  let servers: McpServers | undefined;
  let cluster: Cluster | undefined;

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
    await cluster?.close();
    await host?.close();
    // Let stdout flush the last responses before the process ends; a stdout nobody reads any
    // more (the client quit) must not keep the process alive.
    process.exitCode = 0;
    setTimeout(() => process.exit(0), 2000);
    process.stdout.write("", () => process.exit(0));
  };
  // First of all, before the first line on stderr (a supervisor may signal as soon as it sees one):
  // a signal during start-up still shuts down cleanly instead of killing the process.
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  const file = findConfig(options.config);
  let config = loadConfig(file);
  const replicaId = options.replicaId || process.env.WASMFORGE_REPLICA_ID || config.cluster.replica_id;
  if (replicaId !== undefined && !REPLICA_ID.test(replicaId)) {
    throw new BindError(`replica id "${replicaId}" (--replica-id, WASMFORGE_REPLICA_ID or [cluster] replica_id): expected 1-32 lowercase letters, digits or - (starting with a letter or digit)`);
  }
  if (replicaId) setLogFields({ replica: replicaId });
  // Bad addresses fail before any module loads.
  const tcp = options.tcp === undefined ? undefined : parseAddress(options.tcp === true ? "8080" : options.tcp, "--tcp");
  const http = options.http === undefined ? undefined : parseAddress(options.http, "--http");
  const stdio = options.stdio === true || (!tcp && !http);
  log.info(`config ${file}`);
  const redisUrl = process.env.WASMFORGE_REDIS_URL || config.cluster.redis_url;
  if (redisUrl && !(/^rediss?:\/\//.test(redisUrl) && URL.canParse(redisUrl))) {
    throw new BindError("WASMFORGE_REDIS_URL: expected a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379");
  }
  if (redisUrl) {
    cluster = await (await import("../cluster/index.js")).joinCluster(config, redisUrl);
    // Catching up may have rewritten the managed modules file.
    config = loadConfig(file);
  }
  host = await ToolHost.start(config, { downloadsInBackground: true });
  cluster?.attach(host);
  servers = mcpServers(host, { requestStateKey: process.env.WASMFORGE_REQUEST_STATE_KEY || config.server.request_state_key });
  // A signal during start-up: the shutdown already ran, with nothing started yet.
  if (stopping) return void (await host.close());
  watcher = options.watch === false ? undefined : watchHost(host);
  await watcher?.ready;

  const allowRemote = options.allowRemote === true;
  const maxMessageBytes = config.server.max_message_kb * 1024;
  if (tcp) listeners.push(await (await import("../transports/tcp.js")).serveTcp(servers, { address: tcp, allowRemote, maxMessageBytes, messageIdleMs: config.server.message_idle_ms }));
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
        store: cluster?.store,
        bus: cluster?.bus,
        replicaId,
        readiness: () => readiness(host!, cluster),
        metrics: { public: config.server.metrics_public, clusterConnected: cluster?.connected },
        drainMs: config.server.drain_ms,
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

/** Ready: every enabled module loaded or failed for a reason (none still downloading), and caught up with the cluster. */
function readiness(host: ToolHost, cluster: Cluster | undefined): Readiness {
  const { modules, failures } = host.current;
  const checks: Record<string, string> = {
    config: "loaded",
    modules: host.downloading ? "still loading (downloading?)" : `${modules.length} loaded${failures.length ? `, ${failures.length} failed (see the log)` : ""}`,
  };
  let ready = !host.downloading;
  if (cluster) {
    const status = cluster.status();
    checks.cluster = status.detail;
    ready &&= status.ready;
  }
  return { ready, checks };
}
