import { findConfig, loadConfig } from "../config/load.js";
import { log } from "../log.js";
import { ToolHost } from "../server/host.js";
import { serveStdio, type Listener } from "../transports/stdio.js";

export interface ServeOptions {
  config?: string;
}

export async function serve(options: ServeOptions): Promise<void> {
  const file = findConfig(options.config);
  const config = loadConfig(file);
  log.info(`config ${file}`);
  const host = await ToolHost.start(config);
  const listeners: Listener[] = [];

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${why}: finishing in-flight calls, then exiting`);
    await Promise.all(listeners.map((l) => l.close()));
    await host.close();
    // Let stdout flush the last responses before the process ends.
    process.stdout.write("", () => process.exit(0));
  };

  listeners.push(await serveStdio(host, config.server.max_message_kb * 1024, () => void shutdown("stdin closed")));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}
