// Messages between the main thread and the call workers. Plain data only: they cross postMessage.

import type { CallShape, ModuleAbi } from "../discovery/types.js";

/** The MCP notifications a plugin may send for the call it serves. */
/** A plugin's announcement that its own tools, prompts or resources changed. */
export type ListChangedMethod = "notifications/tools/list_changed" | "notifications/prompts/list_changed" | "notifications/resources/list_changed";
/** Notifications for the client whose call is running. */
export type MessageMethod = "notifications/message" | "notifications/progress";
export type NotificationMethod = MessageMethod | ListChangedMethod;

/** What a module imports, as worked out at load (runtime/imports.ts); the worker provides exactly these. */
export interface ImportPlan {
  /** The WASI preview1 functions it imports. */
  wasiFunctions: string[];
  /** AssemblyScript's default `env` functions it imports. */
  assemblyScriptEnv: string[];
  importedMemory?: { module: string; name: string; minPages: number; shared: boolean };
}

export interface LoadOptions {
  abi: ModuleAbi;
  /** "fresh": new instance per call; "keep": one instance per worker, reused across calls. */
  state: "fresh" | "keep";
  /**
   * For "fresh" plain modules: the exports of every mutable global and table. With them a used
   * instance is reset (memory bytes, globals, table entries) instead of instantiated again.
   * Undefined: instantiate per call.
   */
  resettable?: { globals: string[]; tables: string[] };
  /** Pages grown right after instantiation to hold string arguments (modules without an allocator). */
  scratchPages: number;
  maxMemoryBytes: number;
  maxOutputBytes: number;
  /** What the module imports, as worked out at load (runtime/imports.ts). */
  imports: ImportPlan;
  /**
   * Set when the code is metered (src/wasm/meter.ts): the module imports the meter's host
   * function, and the exported global holds its fuel. Only metered code may run on the protocol
   * thread, and a metered call in a worker stops itself at its deadline.
   */
  metered?: { fuelExport: string };
  extism?: {
    allowedHosts: string[];
    allowedPaths: Record<string, string>;
    config: Record<string, string>;
  };
  component?: ComponentLoad;
}

/** A component, transpiled (runtime/component-prepare.ts): what a worker needs to instantiate it. */
export interface ComponentLoad {
  /** file:// URL of the generated bindings (an ES module exporting `instantiate`), in the cache. */
  entryUrl: string;
  /** Its core modules by the file names the bindings ask for, memory capped and compiled. */
  modules: Record<string, WebAssembly.Module>;
  /** Host directory → guest path (allowed_paths). */
  allowedPaths: Record<string, string>;
  /** Hosts its wasi:http requests may reach. */
  allowedHosts: string[];
}

/** Questions a call asks its client, by key: the MCP request each stands for. */
export type InputRequests = Record<string, { method: string; params: Record<string, unknown> }>;

export type CallInput =
  | { kind: "numeric"; args: (number | bigint)[] }
  | { kind: "text"; text: string }
  | { kind: "none" }
  /** A component's arguments, checked against its input schema: one property per WIT parameter. */
  | { kind: "json"; args: Record<string, unknown> };

/** A numeric result; i64 results stay bigint so they are exact beyond 2^53. */
export type CallValue =
  | { kind: "number"; value: number | bigint }
  | { kind: "text"; text: string }
  /**
   * A component function's result as JSON (a `result<T, E>` as `{"ok": …}` or `{"err": …}`), or
   * null for a function without one.
   */
  | { kind: "json"; value: unknown };

/** A call's value as text: what a client sees in the result's text content. */
export function valueText(value: CallValue): string {
  if (value.kind === "text") return value.text;
  if (value.kind === "json") return typeof value.value === "string" ? value.value : value.value === null ? "" : JSON.stringify(value.value);
  return String(value.value);
}

export type ToWorker =
  | { type: "load"; key: string; module: WebAssembly.Module; options: LoadOptions }
  | { type: "unload"; key: string }
  /** A metered call stops itself `budgetMs` after it starts; its error names `timeoutMs`. */
  | { type: "call"; id: number; key: string; fn: string; shape: CallShape; input: CallInput; timeoutMs: number; budgetMs: number; answers?: Record<string, unknown> };

export type FromWorker =
  /** The worker has started and takes calls: deadlines count from here. */
  | { type: "ready" }
  | { type: "result"; id: number; ok: true; value: CallValue }
  /** `timedOut`: the meter stopped the call at its deadline (the worker is fine). */
  | { type: "result"; id: number; ok: false; error: string; timedOut?: boolean }
  /** Call `id` asked its client questions it had no answer for, and ended. */
  | { type: "input"; id: number; requests: InputRequests }
  | { type: "log"; id?: number; key: string; level: "debug" | "info" | "warn" | "error"; message: string }
  /** An MCP notification a plugin sent through a host function during call `id` (JSON, unchecked). */
  | { type: "notify"; id: number; key: string; method: NotificationMethod; json: string };
