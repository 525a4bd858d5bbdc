// Every log line goes to stderr: in stdio mode stdout carries nothing but JSON-RPC.

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogListener = (level: LogLevel, message: string) => void;

let threshold: LogLevel = "info";
const listeners = new Set<LogListener>();

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/** Also hand log lines to connected MCP clients (notifications/message). */
export function onLog(listener: LogListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(level: LogLevel, message: string): void {
  for (const listener of listeners) listener(level, message);
  if (LOG_LEVELS.indexOf(level) > LOG_LEVELS.indexOf(threshold)) return;
  process.stderr.write(`wasmforge ${level.padEnd(5)} ${message}\n`);
}

export const log = {
  error: (message: string) => emit("error", message),
  warn: (message: string) => emit("warn", message),
  info: (message: string) => emit("info", message),
  debug: (message: string) => emit("debug", message),
  enabled: (level: LogLevel) => LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(threshold),
};
