// Every log line goes to stderr: in stdio mode stdout carries nothing but JSON-RPC.
//
// Two kinds of lines: server-wide ones (`log.*`: start-up, reloads, listeners), which also reach
// every connected client that asked for log messages, and lines about one request (a call's
// failure, a module's output), which the caller routes to that request's client only (see
// server/context.ts) and which go to stderr through `writeLog`.

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Logger = (level: LogLevel, message: string) => void;

let threshold: LogLevel = "info";
let format: "text" | "json" = "text";
const listeners = new Set<Logger>();

/**
 * Whether stderr can still be written. When its reader goes away (a supervisor that quit, `| head`),
 * writes fail with EPIPE; logging then stops instead of failing again on every line, and the
 * server goes on serving and shuts down as asked.
 */
let stderrOpen = true;
process.stderr.on("error", () => {
  stderrOpen = false;
});

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/** `json`: one JSON object per line (time, level, message), for log collectors. */
/** Fields every JSON line carries (e.g. the replica's id), for a collector that merges replicas. */
let fields: Record<string, string> = {};

export function setLogFields(value: Record<string, string>): void {
  fields = value;
}

export function setLogFormat(value: "text" | "json"): void {
  format = value;
}

export function logEnabled(level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(threshold);
}

/** Raw text on stderr (progress bars), unless stderr has gone away. */
export function writeStderr(text: string): void {
  if (!stderrOpen) return;
  try {
    process.stderr.write(text);
  } catch {
    stderrOpen = false;
  }
}

/** One line on stderr only, at or above the level set with --log-level. */
export const writeLog: Logger = (level, message) => {
  if (!logEnabled(level)) return;
  if (format === "json") writeStderr(`${JSON.stringify({ time: new Date().toISOString(), level, ...fields, message })}\n`);
  else writeStderr(`wasmforge ${level.padEnd(5)} ${message}\n`);
};

/** Also hand server-wide log lines to connected MCP clients (notifications/message). */
export function onLog(listener: Logger): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(level: LogLevel, message: string): void {
  for (const listener of listeners) listener(level, message);
  writeLog(level, message);
}

/** Server-wide lines: stderr, and every client that asked for log messages. */
export const log = {
  error: (message: string) => emit("error", message),
  warn: (message: string) => emit("warn", message),
  info: (message: string) => emit("info", message),
  debug: (message: string) => emit("debug", message),
};
