// Why a call failed, decided in one place. A ToolError's message is meant for the client as it is;
// its kind says what the runtime must do with the instance afterwards.

import { formatBytes } from "../core/format.js";

export type FailureKind =
  /** The module trapped (unreachable, out of bounds, stack overflow…): its state may be inconsistent. */
  | "trap"
  /** The module hit max_memory_mb. */
  | "memory"
  /** The module could not be instantiated. */
  | "instantiate"
  /** The module reported an error itself (Extism error_set, AssemblyScript abort, proc_exit). */
  | "module"
  /** The module asked the host for something it may not have or that failed (http_request, vars). */
  | "host"
  /** A result, error text or log volume over max_output_mb. */
  | "output"
  /** The call was preempted or stopped from inside by the meter (deadline, time slice). */
  | "stopped";

export class ToolError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
  }
}

/** A failure after which the instance must not serve another call. */
export function spoilsInstance(err: unknown): boolean {
  return !(err instanceof ToolError) || err.kind === "trap" || err.kind === "memory" || err.kind === "instantiate" || err.kind === "stopped";
}

export interface FailureLimits {
  maxMemoryBytes: number;
}

/** Turns a trap or host error into a ToolError that says what happened. */
export function describeFailure(err: unknown, memory: WebAssembly.Memory | undefined, limits: FailureLimits): ToolError {
  if (err instanceof ToolError) return err;
  const message = err instanceof Error ? err.message : typeof err === "object" && err && "message" in err ? String(err.message) : String(err);
  if (/call stack size/i.test(message)) {
    return new ToolError("trap", `wasm trap: stack overflow (the module recursed too deeply): ${message}`);
  }
  const used = memory?.buffer.byteLength ?? 0;
  const allocationFailed = err instanceof RangeError && /memory|allocation|buffer/i.test(message);
  if (used > limits.maxMemoryBytes * 0.9 || allocationFailed) {
    return new ToolError(
      "memory",
      `memory limit reached: the module used ${formatBytes(used)} of its ${formatBytes(limits.maxMemoryBytes)} (max_memory_mb), then failed: ${message}`,
    );
  }
  // A component's bindings rethrow traps with the prefix already in the message.
  if (err instanceof WebAssembly.RuntimeError) return new ToolError("trap", message.startsWith("wasm trap") ? message : `wasm trap: ${message}`);
  return new ToolError("trap", message);
}

/** Text from a module (an error message, a log line) cut to `max` characters, with a marker. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters cut: over the limit)`;
}
