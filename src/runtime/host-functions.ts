// Host functions WasmForge offers plugins in extism:host/user: hyper-mcp's (logging and progress
// notifications for the client whose call is running; asking that client for input; announcing
// that the plugin's own tools, prompts or resources changed), and WasmForge's own `request_input`.
// Those with a parameter take the offset of an Extism memory block holding JSON. Any other
// extism:host/user import is a load error (imports.ts).
//
// Announcing a change: once the call that announced ends, a plugin that describes itself is asked
// for its lists again, as a reload of that one module would, and clients hear list_changed
// (server/host.ts).
//
// Asking the client: the call cannot wait for an answer (in the 2026-07-28 protocol the answer comes
// with a new request), so a question the call has no answer for ends it, and it runs again from
// its start with every answer so far (see server/input.ts). On that run the same question returns
// its answer. A question's key names it in the protocol: `_meta["io.wasmforge/inputKey"]` when the
// plugin gives one, else `elicitation_1`, `sampling_1`, `roots_1`… in the order asked.

import type { CallContext } from "@extism/extism";
import type { ValueType } from "../wasm/reader.js";
import { ToolError } from "./failure.js";
import type { InputRequests, ListChangedMethod, MessageMethod, NotificationMethod } from "./protocol.js";

export type { ListChangedMethod, MessageMethod, NotificationMethod };

export const USER_NAMESPACE = "extism:host/user";
export const INPUT_KEY_META = "io.wasmforge/inputKey";

export type InputMethod = "elicitation/create" | "sampling/createMessage" | "roots/list";

type HostFunctionKind =
  | { notify: MessageMethod }
  | { announce: ListChangedMethod }
  | { ask: InputMethod }
  | { askMany: true };

export interface HostFunctionSpec {
  params: ValueType[];
  results: ValueType[];
  kind: HostFunctionKind;
}

/** Every extism:host/user function WasmForge provides, with the signature a plugin must import it with. */
export const HOST_FUNCTIONS: Record<string, HostFunctionSpec> = {
  notify_logging_message: { params: ["i64"], results: [], kind: { notify: "notifications/message" } },
  notify_progress: { params: ["i64"], results: [], kind: { notify: "notifications/progress" } },
  notify_tool_list_changed: { params: [], results: [], kind: { announce: "notifications/tools/list_changed" } },
  notify_prompt_list_changed: { params: [], results: [], kind: { announce: "notifications/prompts/list_changed" } },
  notify_resource_list_changed: { params: [], results: [], kind: { announce: "notifications/resources/list_changed" } },
  create_elicitation: { params: ["i64"], results: ["i64"], kind: { ask: "elicitation/create" } },
  create_message: { params: ["i64"], results: ["i64"], kind: { ask: "sampling/createMessage" } },
  list_roots: { params: [], results: ["i64"], kind: { ask: "roots/list" } },
  /** `{ key: { method, params } , … }` → `{ key: response, … }`: several questions in one round. */
  request_input: { params: ["i64"], results: ["i64"], kind: { askMany: true } },
};

/** One notification is a log line or a progress step; anything bigger is a plugin bug, not a message. */
export const MAX_NOTIFICATION_BYTES = 64 * 1024;
const MAX_QUESTION_BYTES = 256 * 1024;

export type Notify = (method: NotificationMethod, json: string) => void;

/**
 * Answers the call's questions from what it was given, or throws InputNeeded (ending the call)
 * with the questions that have no answer yet.
 */
export type Ask = (requests: InputRequests) => Record<string, unknown>;

/** The call asked the client something it has no answer for: it ends, to run again with the answers. */
export class InputNeeded extends Error {
  constructor(readonly requests: InputRequests) {
    super(`the module asks the client for input (${Object.keys(requests).join(", ")})`);
  }
}

const KEY_PREFIX: Record<InputMethod, string> = {
  "elicitation/create": "elicitation",
  "sampling/createMessage": "sampling",
  "roots/list": "roots",
};

type HostFunction = (ctx: CallContext, ...args: bigint[]) => bigint | void;

/**
 * The extism:host/user functions for @extism/extism's `functions` option, for one instance;
 * `newCall` starts the numbering of questions again at the start of each call.
 */
export function hostFunctions(
  notify: Notify,
  ask: Ask,
  store: (ctx: CallContext, value: string) => bigint,
  drop: (why: string) => void,
): { functions: Record<string, HostFunction>; newCall: () => void } {
  const asked = new Map<InputMethod, number>();
  const readJson = (ctx: CallContext, addr: bigint, name: string, limit: number): unknown => {
    const block = ctx.read(addr);
    if (!block) throw new ToolError("module", `${name} was given an invalid memory block`);
    const size = block.bytes().length;
    if (size > limit) throw new ToolError("module", `${name} was given ${size} bytes, over the ${limit}-byte limit`);
    try {
      return JSON.parse(block.text());
    } catch {
      throw new ToolError("module", `${name} was given text that is not JSON: ${JSON.stringify(block.text().slice(0, 80))}`);
    }
  };
  const functions: Record<string, HostFunction> = {};
  for (const [name, { kind }] of Object.entries(HOST_FUNCTIONS)) {
    if ("notify" in kind) {
      functions[name] = (ctx, addr) => {
        const block = ctx.read(addr!);
        if (!block) return drop(`${name} was given an invalid memory block`);
        const size = block.bytes().length;
        if (size > MAX_NOTIFICATION_BYTES) return drop(`${name} was given ${size} bytes, over the ${MAX_NOTIFICATION_BYTES}-byte limit for one notification`);
        notify(kind.notify, block.text());
      };
    } else if ("announce" in kind) {
      functions[name] = () => notify(kind.announce, "");
    } else if ("ask" in kind) {
      functions[name] = (ctx, addr) => {
        const params = addr === undefined ? {} : readJson(ctx, addr, name, MAX_QUESTION_BYTES);
        if (!isObject(params)) throw new ToolError("module", `${name} needs a JSON object (the MCP request's params)`);
        const n = (asked.get(kind.ask) ?? 0) + 1;
        asked.set(kind.ask, n);
        const meta = isObject(params._meta) ? params._meta : {};
        const key = typeof meta[INPUT_KEY_META] === "string" ? meta[INPUT_KEY_META] : `${KEY_PREFIX[kind.ask]}_${n}`;
        // hyper-mcp's elicitation params may carry its own `timeout`; the MCP request has none.
        const { timeout: _timeout, ...mcpParams } = params;
        const answers = ask({ [key]: { method: kind.ask, params: mcpParams } });
        return store(ctx, JSON.stringify(answers[key]));
      };
    } else {
      functions[name] = (ctx, addr) => {
        const requests = readJson(ctx, addr!, name, MAX_QUESTION_BYTES);
        if (!isObject(requests) || Object.keys(requests).length === 0) throw new ToolError("module", `${name} needs a JSON object of questions: { "key": { "method": …, "params": … } }`);
        const checked: InputRequests = {};
        for (const [key, request] of Object.entries(requests)) {
          if (!isObject(request) || !isInputMethod(request.method)) {
            throw new ToolError("module", `${name}: question "${key}" needs "method" (elicitation/create, sampling/createMessage or roots/list) and "params"`);
          }
          checked[key] = { method: request.method, params: isObject(request.params) ? request.params : {} };
        }
        return store(ctx, JSON.stringify(ask(checked)));
      };
    }
  }
  return { functions, newCall: () => asked.clear() };
}

export function isListChanged(method: NotificationMethod): method is ListChangedMethod {
  return method.endsWith("/list_changed");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isInputMethod(value: unknown): value is InputMethod {
  return value === "elicitation/create" || value === "sampling/createMessage" || value === "roots/list";
}
