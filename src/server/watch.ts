// Hot reload: watches the config file and every local module file, and reloads the host once per
// burst of changes. Editors and compilers write through temp files, renames, or delete-and-create;
// watching the parent directories (not the files) sees all of those.

import { dirname, resolve } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import { ConfigError } from "../config/load.js";
import { log } from "../core/log.js";
import type { ToolHost } from "./host.js";

/** Quiet time after the last change before reloading: one reload per burst. */
export const RELOAD_DEBOUNCE_MS = 60;

export interface Watcher {
  /** Resolves once the initial scan is done: changes after this are seen. */
  ready: Promise<void>;
  close(): Promise<void>;
  /** Resolves after the next reload completes (for tests and benchmarks). */
  nextReload(): Promise<void>;
}

function watchedFiles(host: ToolHost): Set<string> {
  // The managed-modules file (admin API) too, even before it exists: its creation is a change.
  const files = new Set([resolve(host.config.file), resolve(host.config.managed.file)]);
  for (const m of host.config.modules) if (m.source.kind === "local") files.add(resolve(m.source.path));
  return files;
}

export function watchHost(host: ToolHost): Watcher {
  let files = watchedFiles(host);
  let dirs = new Set([...files].map((f) => dirname(f)));
  const watcher: FSWatcher = watch([...dirs], { depth: 0, ignoreInitial: true, atomic: false });
  let timer: NodeJS.Timeout | undefined;
  let last: Promise<void> = Promise.resolve();
  const waiters: (() => void)[] = [];

  const reload = async () => {
    try {
      const { changed } = await host.reload();
      log.info(changed ? "reloaded: the tool list changed; clients were notified" : "reloaded: no change to the tools");
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : (err as Error).message;
      log.error(`reload failed, still serving the last good config: ${message}`);
    }
    const nextFiles = watchedFiles(host);
    const nextDirs = new Set([...nextFiles].map((f) => dirname(f)));
    const added = [...nextDirs].filter((d) => !dirs.has(d));
    const removed = [...dirs].filter((d) => !nextDirs.has(d));
    if (added.length) watcher.add(added);
    if (removed.length) watcher.unwatch(removed);
    files = nextFiles;
    dirs = nextDirs;
    for (const wake of waiters.splice(0)) wake();
  };

  // host.reload() runs reloads one at a time; a burst during one simply queues the next.
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      last = reload();
    }, RELOAD_DEBOUNCE_MS);
  };

  watcher.on("all", (event, path) => {
    if (!files.has(resolve(path))) return;
    log.debug(`watch: ${event} ${path}`);
    schedule();
  });
  watcher.on("error", (err) => log.warn(`watch error: ${(err as Error).message}`));

  const ready = new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return {
    ready,
    async close() {
      clearTimeout(timer);
      await watcher.close();
      await last;
    },
    nextReload: () => new Promise((resolve) => waiters.push(resolve)),
  };
}
