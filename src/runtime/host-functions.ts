// Host functions hyper-mcp offers its plugins in extism:host/user, as far as WasmForge provides
// them: logging and progress notifications for the client whose call is running. Each takes the
// offset of an Extism memory block holding JSON; the worker passes the text on to the main thread,
// which checks it and routes it. Any other extism:host/user import is a load error (imports.ts).

import type { CallContext } from "@extism/extism";
import type { ValueType } from "../wasm/reader.js";

export const USER_NAMESPACE = "extism:host/user";

export type NotificationMethod = "notifications/message" | "notifications/progress";

export interface HostFunctionSpec {
  params: ValueType[];
  results: ValueType[];
  method: NotificationMethod;
}

/** Every extism:host/user function WasmForge provides, with the signature a plugin must import it with. */
export const HOST_FUNCTIONS: Record<string, HostFunctionSpec> = {
  notify_logging_message: { params: ["i64"], results: [], method: "notifications/message" },
  notify_progress: { params: ["i64"], results: [], method: "notifications/progress" },
};

/** One notification is a log line or a progress step; anything bigger is a plugin bug, not a message. */
export const MAX_NOTIFICATION_BYTES = 64 * 1024;

export type Notify = (method: NotificationMethod, json: string) => void;

/** The extism:host/user functions for @extism/extism's `functions` option. */
export function hostFunctions(notify: Notify, drop: (why: string) => void): Record<string, (ctx: CallContext, addr: bigint) => void> {
  const functions: Record<string, (ctx: CallContext, addr: bigint) => void> = {};
  for (const [name, { method }] of Object.entries(HOST_FUNCTIONS)) {
    functions[name] = (ctx, addr) => {
      const block = ctx.read(addr);
      if (!block) return drop(`${name} was given an invalid memory block`);
      const size = block.bytes().length;
      if (size > MAX_NOTIFICATION_BYTES) {
        return drop(`${name} was given ${size} bytes, over the ${MAX_NOTIFICATION_BYTES}-byte limit for one notification`);
      }
      notify(method, block.text());
    };
  }
  return functions;
}
