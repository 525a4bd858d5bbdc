// What one MCP request hands the host: cancellation, who is asking (plugins that describe
// themselves receive it as their context), and the ways back to that request's client only.

import type { Logger } from "../core/log.js";
import type { RequestInfo } from "../discovery/describing.js";
import type { CallOutcome, CallRequest } from "../runtime/pool.js";
import type { LoadedModule } from "./catalog.js";
import type { PluginNotification } from "./plugin-codec.js";

export interface CallContext {
  signal?: AbortSignal;
  /** The MCP request being served; plugins that describe themselves receive it as their context. */
  request?: RequestInfo;
  /** Logging and progress notifications the plugin sent for this request (already checked). */
  onNotify?: (notification: PluginNotification) => void;
  /** The call left the queue and runs. */
  onStart?: () => void;
  /**
   * Lines about this request (its failure, the module's output and log calls): stderr, and this
   * request's client only, never other clients. Default: stderr only.
   */
  log?: Logger;
  /** Answers the client gave to the module's questions on earlier rounds of this request (server/input.ts). */
  answers?: Record<string, unknown>;
}

/** One call into a module: what the pool needs besides the module itself. */
export type ModuleCall = Pick<CallRequest, "fn" | "shape" | "input" | "timeoutMs">;

/** Runs one call into a loaded module for a request (the host counts it against the module's version). */
export type RunModule = (module: LoadedModule, ctx: CallContext, call: ModuleCall) => Promise<CallOutcome>;
