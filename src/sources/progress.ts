// Download progress on stderr: one redrawn bar line for all running downloads when stderr is a
// terminal, plain log lines otherwise (logs, pipes, MCP clients that capture stderr).

import { log, logEnabled, writeStderr } from "../core/log.js";
import { formatBytes } from "../core/format.js";

export interface Progress {
  advance(bytes: number): void;
  done(): void;
  /** The download attempt ended without a file (it may be retried). */
  stop(): void;
}

interface Running {
  label: string;
  received: number;
  total?: number;
}

const running = new Set<Running>();
let lastDraw = 0;
const BAR_WIDTH = 24;

const useBar = () => process.stderr.isTTY === true && logEnabled("info");

export function startProgress(label: string, total: number | undefined): Progress {
  const started = Date.now();
  const entry: Running = { label, received: 0, total };
  running.add(entry);
  if (!useBar()) log.info(`downloading ${label}${total !== undefined ? ` (${formatBytes(total)})` : ""}`);
  else draw(true);
  return {
    advance(bytes) {
      entry.received += bytes;
      if (useBar()) draw(false);
    },
    done() {
      running.delete(entry);
      if (useBar()) clearLine();
      log.info(`downloaded ${label} (${formatBytes(entry.received)} in ${Date.now() - started} ms)`);
      if (useBar()) draw(true);
    },
    stop() {
      running.delete(entry);
      if (useBar()) {
        clearLine();
        draw(true);
      }
    },
  };
}

function draw(force: boolean): void {
  const now = Date.now();
  if (!force && now - lastDraw < 100) return;
  lastDraw = now;
  const all = [...running];
  if (all.length === 0) return;
  const received = all.reduce((sum, r) => sum + r.received, 0);
  const known = all.every((r) => r.total !== undefined);
  const total = known ? all.reduce((sum, r) => sum + (r.total ?? 0), 0) : undefined;
  const what = all.length === 1 ? all[0]!.label : `${all.length} modules`;
  let line: string;
  if (total) {
    const filled = Math.min(BAR_WIDTH, Math.round((received / total) * BAR_WIDTH));
    const percent = Math.min(100, Math.floor((received / total) * 100));
    line = `downloading ${what} [${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${percent}% ${formatBytes(received)}/${formatBytes(total)}`;
  } else {
    line = `downloading ${what} ${formatBytes(received)}`;
  }
  const width = process.stderr.columns || 80;
  writeStderr(`\r\x1b[K${line.slice(0, width - 1)}`);
}

function clearLine(): void {
  writeStderr("\r\x1b[K");
}
