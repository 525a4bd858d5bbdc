// Runs Extism plugins inside a call worker, through @extism/extism (in-thread: the worker itself is
// what the pool terminates on a timeout).
//
// A plugin's memory blocks live outside its wasm memory and outside the worker's heap limit, so
// WasmForge counts them itself: every block a call allocates (through `alloc`, its input, or a
// host function storing a value for it) counts against the module's max_memory_mb until the call
// ends — the plugin is reset after every call, which frees them all. (Frees during the call are
// not credited back: the SDK's kernel free cannot be wrapped, and no real plugin churns through
// hundreds of megabytes of blocks in one call.)

import createPlugin, { type CallContext, type Plugin } from "@extism/extism";
import { formatBytes } from "../core/format.js";
import { EXTISM_NAMESPACE } from "../discovery/extism.js";
import { describeFailure, ToolError, truncate } from "./failure.js";
import { hostFunctions, InputNeeded, USER_NAMESPACE, type Ask, type Notify } from "./host-functions.js";
import { httpHostFunctions } from "./http-host.js";
import type { Meter } from "./meter-host.js";
import type { CallValue, LoadOptions } from "./protocol.js";
import { METER_FUNCTION, METER_NAMESPACE } from "../wasm/meter.js";

export type PluginLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;

const utf8 = new TextDecoder();
const LOG_LEVEL_INFO = 2; // Extism's levels: trace 0, debug 1, info 2, warn 3, error 4
const MAX_VAR_BYTES = 1024 * 1024;
/** A plugin's error message is for a person: longer ones are cut (with a marker). */
export const MAX_ERROR_CHARS = 64 * 1024;

export interface ExtismInstance {
  plugin: Plugin;
  /** Host-side block bytes the running call holds. */
  memory: HostMemory;
  /** Starts the numbering of the plugin's questions to its client again. */
  newCall: () => void;
}

/** A plugin's variables (var_set), kept by the worker beside the instance so they outlive it. */
export interface PluginVars {
  values: Map<string, Uint8Array>;
  bytes: number;
}

/** The host-side bytes one call has allocated, against the module's cap. */
class HostMemory {
  private used = 0;
  constructor(private readonly limit: number) {}

  /** Counts a block about to be allocated; throws at the cap. */
  take(bytes: number, what: string): void {
    if (this.used + bytes > this.limit) {
      throw new ToolError(
        "memory",
        `memory limit reached: the plugin's ${what} of ${formatBytes(bytes)} would bring its memory blocks to ${formatBytes(this.used + bytes)}, over its ${formatBytes(this.limit)} (max_memory_mb)`,
      );
    }
    this.used += bytes;
  }
  clear(): void {
    this.used = 0;
  }
}

export interface PluginHooks {
  log: PluginLog;
  notify: Notify;
  ask: Ask;
  /** Vars live here rather than in the SDK's blocks, so they survive the reset after every call. */
  vars: PluginVars;
  /** The host side of the plugin's fuel, when its code is metered. */
  meter?: Meter;
}

export async function instantiateExtism(module: WebAssembly.Module, options: LoadOptions, hooks: PluginHooks): Promise<ExtismInstance> {
  const ext = options.extism!;
  const onLog = hooks.log;
  const memory = new HostMemory(options.maxMemoryBytes);
  const vars = hooks.vars;
  /** Stores a value in a new block for the plugin, counted. */
  const store = (ctx: CallContext, value: string | Uint8Array, what: string): bigint => {
    const bytes = typeof value === "string" ? Buffer.byteLength(value) : value.length;
    memory.take(bytes, what);
    return ctx.store(value);
  };
  const user = hostFunctions(hooks.notify, hooks.ask, (ctx, value) => store(ctx, value, "answer"), (why) => onLog("warn", `notification dropped: ${why}`));
  const plugin = await createPlugin(
    { wasm: [{ module }], config: ext.config },
    {
      useWasi: options.imports.wasiFunctions.length > 0,
      enableWasiOutput: false,
      runInWorker: false,
      allowedHosts: ext.allowedHosts,
      allowedPaths: ext.allowedPaths,
      config: ext.config,
      logger: pluginLogger(onLog),
      functions: {
        [EXTISM_NAMESPACE]: {
          get_log_level: () => LOG_LEVEL_INFO,
          log_trace: (ctx: CallContext, addr: bigint) => onLog("debug", ctx.read(addr)?.text() ?? ""),
          ...httpHostFunctions(ext.allowedHosts, options.maxOutputBytes, (ctx, body) => store(ctx, body, "HTTP response")),
          alloc(ctx: CallContext, size: bigint) {
            memory.take(Number(size), "block");
            return ctx.alloc(size);
          },
          config_get(ctx: CallContext, keyAddr: bigint) {
            const key = ctx.read(keyAddr)?.text() ?? "";
            return Object.hasOwn(ext.config, key) ? store(ctx, ext.config[key]!, "config value") : 0n;
          },
          var_get(ctx: CallContext, keyAddr: bigint) {
            const value = vars.values.get(ctx.read(keyAddr)?.text() ?? "");
            return value ? store(ctx, value, "variable") : 0n;
          },
          var_set(ctx: CallContext, keyAddr: bigint, valueAddr: bigint) {
            const key = ctx.read(keyAddr)?.text() ?? "";
            vars.bytes -= vars.values.get(key)?.length ?? 0;
            vars.values.delete(key);
            if (valueAddr === 0n) return;
            const value = ctx.read(valueAddr)?.bytes().slice() ?? new Uint8Array();
            if (vars.bytes + value.length > MAX_VAR_BYTES) throw new ToolError("host", "plugin vars exceed 1 MiB");
            vars.values.set(key, value);
            vars.bytes += value.length;
          },
        },
        [USER_NAMESPACE]: user.functions,
        // The SDK calls host functions with its call context first; the meter's function takes nothing.
        ...(options.metered && hooks.meter ? { [METER_NAMESPACE]: { [METER_FUNCTION]: () => hooks.meter!.imports[METER_NAMESPACE][METER_FUNCTION]() } } : {}),
      },
    },
  );
  return { plugin, memory, newCall: user.newCall };
}

export async function callExtism(inst: ExtismInstance, fnName: string, input: string, options: LoadOptions): Promise<CallValue> {
  inst.memory.clear();
  inst.newCall();
  try {
    inst.memory.take(Buffer.byteLength(input), "input");
    const output = await inst.plugin.call(fnName, input);
    const bytes = output?.bytes() ?? new Uint8Array();
    if (bytes.length > options.maxOutputBytes) {
      throw new ToolError("output", `output of ${bytes.length} bytes is over the output limit of ${options.maxOutputBytes} bytes (max_output_mb)`);
    }
    return { kind: "text", text: utf8.decode(bytes) };
  } catch (err) {
    if (err instanceof InputNeeded || err instanceof ToolError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const pluginError = /^Plugin-originated error: ([\s\S]*)$/.exec(message);
    if (pluginError) throw new ToolError("module", truncate(pluginError[1]!, Math.min(MAX_ERROR_CHARS, options.maxOutputBytes)));
    const memory = (await inst.plugin.getInstance().catch(() => undefined))?.exports.memory;
    throw describeFailure(err, memory instanceof WebAssembly.Memory ? memory : undefined, options);
  } finally {
    // The SDK keeps every call's blocks until reset; resetting each call keeps long runs flat.
    await inst.plugin.reset();
    inst.memory.clear();
  }
}

function pluginLogger(onLog: PluginLog): Console {
  const at = (level: "debug" | "info" | "warn" | "error") => (...args: unknown[]) => onLog(level, args.map(String).join(" "));
  return { ...console, debug: at("debug"), info: at("info"), log: at("info"), warn: at("warn"), error: at("error"), trace: at("debug") };
}
