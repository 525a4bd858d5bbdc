// Runs one call of a component's function inside a call worker: instantiates the transpiled
// component (its bindings from the cache, its core modules as compiled in the main thread) with
// WasmForge's deny-by-default WASI, passes the JSON arguments in and the result out as JSON.
// Loaded by worker.ts only when a worker meets a component.
//
// A component keeps its instance per worker by default (state = "keep"): instantiating costs tens
// of milliseconds. A trap poisons the instance (every later call would fail with "cannot enter
// component instance"), as does wasi:cli/exit, so after either the next call instantiates anew;
// a bad argument is caught before the component runs and keeps it.

import type { CallShape } from "../discovery/types.js";
import { createWasiHost, type WasiHost } from "./component-wasi.js";
import { ArgumentError, fromJs, isGuestError, lowerCamel, payloadOf, toJs } from "./component-values.js";
import { describeFailure, ToolError } from "./failure.js";
import type { CallInput, CallValue, ComponentLoad, LoadOptions } from "./protocol.js";

export interface ComponentInstance {
  root: Record<string, unknown>;
  host: WasiHost;
}

type Instantiate = (getCoreModule: (name: string) => WebAssembly.Module, imports: Record<string, object>) => Promise<Record<string, unknown>>;

export type ComponentLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;

/** What a worker keeps for one loaded component. */
export interface ComponentSlot {
  instance?: ComponentInstance;
}

async function instantiateComponent(load: ComponentLoad): Promise<ComponentInstance> {
  let instantiate: Instantiate;
  try {
    const bindings = (await import(load.entryUrl)) as { instantiate?: unknown };
    if (typeof bindings.instantiate !== "function") throw new Error("the bindings export no instantiate()");
    instantiate = bindings.instantiate as Instantiate;
  } catch (err) {
    throw new ToolError("instantiate", `cannot load the component's bindings (${load.entryUrl}): ${(err as Error).message}; \`wasmforge cache clear\` transpiles it again`);
  }
  const host = await createWasiHost(load);
  const getCoreModule = (name: string) => {
    const module = load.modules[name];
    if (!module) throw new Error(`the bindings ask for a core module "${name}" the cache entry does not have`);
    return module;
  };
  try {
    return { root: await instantiate(getCoreModule, host.imports), host };
  } catch (err) {
    throw new ToolError("instantiate", `cannot instantiate the component: ${(err as Error).message ?? String(err)}`);
  }
}

/** Runs the function `shape` names with the call's JSON arguments; the result comes back as JSON. */
export async function callComponent(slot: ComponentSlot, options: LoadOptions, shape: CallShape, input: CallInput, log: ComponentLog): Promise<CallValue> {
  if (shape.pattern !== "component" || !options.component) throw new ToolError("instantiate", "not a component function");
  const args = input.kind === "json" ? input.args : {};
  let values: unknown[];
  try {
    values = shape.params.map((p) => toJs(args[p.name] ?? null, p.type, p.name));
  } catch (err) {
    if (err instanceof ArgumentError) throw new ArgumentError(`invalid arguments: ${err.message}`);
    throw err;
  }
  let instance: ComponentInstance | undefined;
  try {
    instance = slot.instance ?? (await instantiateComponent(options.component));
    slot.instance = options.state === "keep" ? instance : undefined;
    const fn = exported(instance.root, shape.interface, shape.function);
    const value = await run(fn, values, shape.result);
    const size = JSON.stringify(value)?.length ?? 0;
    if (size > options.maxOutputBytes) {
      throw new ToolError("output", `result of ${size} bytes of JSON is over the output limit of ${options.maxOutputBytes} bytes (max_output_mb)`);
    }
    return { kind: "json", value };
  } catch (err) {
    // Anything may have left the instance unusable.
    slot.instance = undefined;
    throw describeFailure(err, undefined, options);
  } finally {
    if (instance) report(instance.host, log);
  }
}

/** Calls the function; a result's `err` is a value here (the host decides it is a tool error). */
async function run(fn: (...args: unknown[]) => unknown, values: unknown[], result: Extract<CallShape, { pattern: "component" }>["result"]): Promise<unknown> {
  if (result?.kind === "result") {
    try {
      const ok = await fn(...values);
      return { ok: result.ok ? fromJs(ok, result.ok) : null };
    } catch (err) {
      if (!isGuestError(err)) throw err;
      return { err: result.err ? fromJs(payloadOf(err), result.err) : null };
    }
  }
  const value = await fn(...values);
  return result ? fromJs(value, result) : null;
}

/** The bindings name world functions `root.readFile`, interface functions `root["ns:pkg/iface@1.0.0"].nextChar`. */
function exported(root: Record<string, unknown>, iface: string | undefined, name: string): (...args: unknown[]) => unknown {
  const target = iface === undefined ? root : root[iface];
  if (typeof target !== "object" || target === null) throw new ToolError("instantiate", `the transpiled component has no export ${iface}`);
  const fn = (target as Record<string, unknown>)[lowerCamel(name)];
  if (typeof fn !== "function") throw new ToolError("instantiate", `the transpiled component has no function ${iface ? `${iface}#` : ""}${name}`);
  return fn as (...args: unknown[]) => unknown;
}

/** What the component printed, and what it was refused, goes to the log: never to stdout. */
function report(host: WasiHost, log: ComponentLog): void {
  const { stdout, stderr, truncated, denied } = host.takeOutput();
  const cut = truncated ? " … (output cut: over the per-call limit)" : "";
  if (stdout) log("info", `component stdout: ${stdout.trimEnd()}${stderr ? "" : cut}`);
  if (stderr) log("info", `component stderr: ${stderr.trimEnd()}${cut}`);
  for (const what of denied) log("warn", `denied: ${what}`);
}
