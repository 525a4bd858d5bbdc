// Runs Extism plugins inside a call worker, through @extism/extism (in-thread: the worker itself is
// what the pool terminates on a timeout).

import createPlugin, { type CallContext, type Plugin } from "@extism/extism";
import { hostFunctions, USER_NAMESPACE, type Notify } from "./host-functions.js";
import type { CallValue, LoadOptions } from "./protocol.js";
import { httpHostFunctions } from "./http-host.js";
import { describeFailure, ToolError } from "./raw-call.js";

export type PluginLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;


const LOG_LEVEL_INFO = 2; // Extism's levels: trace 0, debug 1, info 2, warn 3, error 4
const MAX_VAR_BYTES = 1024 * 1024;

export interface ExtismInstance {
  plugin: Plugin;
}

export async function instantiateExtism(module: WebAssembly.Module, options: LoadOptions, onLog: PluginLog, notify: Notify): Promise<ExtismInstance> {
  const ext = options.extism!;
  // Vars live here rather than in the SDK's blocks, so they survive the reset after every call.
  const vars = new Map<string, Uint8Array>();
  let varBytes = 0;
  const plugin = await createPlugin(
    { wasm: [{ module }], config: ext.config },
    {
      useWasi: ext.useWasi,
      enableWasiOutput: false,
      runInWorker: false,
      allowedHosts: ext.allowedHosts,
      allowedPaths: ext.allowedPaths,
      config: ext.config,
      logger: pluginLogger(onLog),
      functions: {
        "extism:host/env": {
          get_log_level: () => LOG_LEVEL_INFO,
          log_trace: (ctx: CallContext, addr: bigint) => onLog("debug", ctx.read(addr)?.text() ?? ""),
          ...httpHostFunctions(ext.allowedHosts, options.maxOutputBytes),
          alloc(ctx: CallContext, size: bigint) {
            if (Number(size) > options.maxMemoryBytes) {
              throw new ToolError(`memory limit reached: the plugin asked for a ${size}-byte block, over its ${Math.round(options.maxMemoryBytes / 1048576)} MB (max_memory_mb)`);
            }
            return ctx.alloc(size);
          },
          var_get(ctx: CallContext, keyAddr: bigint) {
            const value = vars.get(ctx.read(keyAddr)?.text() ?? "");
            return value ? ctx.store(value) : 0n;
          },
          var_set(ctx: CallContext, keyAddr: bigint, valueAddr: bigint) {
            const key = ctx.read(keyAddr)?.text() ?? "";
            varBytes -= vars.get(key)?.length ?? 0;
            vars.delete(key);
            if (valueAddr === 0n) return;
            const value = ctx.read(valueAddr)?.bytes().slice() ?? new Uint8Array();
            if (varBytes + value.length > MAX_VAR_BYTES) throw new ToolError("plugin vars exceed 1 MiB");
            vars.set(key, value);
            varBytes += value.length;
          },
        },
        [USER_NAMESPACE]: hostFunctions(notify, (why) => onLog("warn", `notification dropped: ${why}`)),
      },
    },
  );
  return { plugin };
}

export async function callExtism(inst: ExtismInstance, fnName: string, input: string, options: LoadOptions): Promise<CallValue> {
  try {
    const output = await inst.plugin.call(fnName, input);
    const bytes = output?.bytes() ?? new Uint8Array();
    if (bytes.length > options.maxOutputBytes) {
      throw new ToolError(`output of ${bytes.length} bytes is over the output limit of ${options.maxOutputBytes} bytes (max_output_mb)`);
    }
    return { kind: "text", text: new TextDecoder().decode(bytes) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pluginError = /^Plugin-originated error: ([\s\S]*)$/.exec(message);
    if (pluginError) throw new ToolError(pluginError[1]!);
    const memory = (await inst.plugin.getInstance().catch(() => undefined))?.exports.memory;
    throw describeFailure(err, memory instanceof WebAssembly.Memory ? memory : undefined, options);
  } finally {
    // The SDK keeps every call's blocks until reset; resetting each call keeps long runs flat.
    await inst.plugin.reset();
  }
}

function pluginLogger(onLog: PluginLog): Console {
  const at = (level: "debug" | "info" | "warn" | "error") => (...args: unknown[]) => onLog(level, args.map(String).join(" "));
  return { ...console, debug: at("debug"), info: at("info"), log: at("info"), warn: at("warn"), error: at("error"), trace: at("debug") };
}
