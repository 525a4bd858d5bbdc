// Runs one call in a module, the same way wherever it runs: in a worker (runtime/worker.ts) or on
// the protocol thread (runtime/in-thread.ts). Each place keeps its own instances of each module
// (Held), its own meter, and routes what the running call's module says (log lines, notifications,
// questions to the client) through one CallScope at a time.

import type { ComponentSlot } from "./component-call.js";
import type { ExtismInstance, PluginLog, PluginVars } from "./extism-call.js";
import { describeFailure, spoilsInstance, truncate } from "./failure.js";
import { InputNeeded, type Ask, type NotificationMethod, type Notify } from "./host-functions.js";
import type { Meter } from "./meter-host.js";
import type { CallInput, CallValue, LoadOptions } from "./protocol.js";
import { callRaw, instantiateRaw, resetRaw, type RawInstance } from "./raw-call.js";
import type { CallShape } from "../discovery/types.js";

/** One module as a thread holds it: the compiled code, and the instance the next call uses. */
export interface Held {
  module: WebAssembly.Module;
  options: LoadOptions;
  /** The instance the next call uses: kept ("keep"), or reset to its first state ("fresh"). */
  raw?: RawInstance;
  extism?: ExtismInstance;
  /** A plugin's variables: they outlive an instance discarded after a trap. */
  vars: PluginVars;
  /** A component's instance, when it keeps one. */
  component: ComponentSlot;
}

export function hold(module: WebAssembly.Module, options: LoadOptions): Held {
  return { module, options, vars: { values: new Map(), bytes: 0 }, component: {} };
}

export interface Call {
  fn: string;
  shape: CallShape;
  input: CallInput;
}

/** Where the running call's module output goes; bounded per call here, so every thread agrees. */
export interface ScopeSinks {
  log(level: LogLevelName, message: string): void;
  notify(method: NotificationMethod, json: string): void;
  answers: Record<string, unknown>;
}

type LogLevelName = "debug" | "info" | "warn" | "error";

const MAX_NOTIFICATIONS_PER_CALL = 1000;
/** Log volume a module may produce: per line, and per call (beyond it, one marker line). */
const MAX_LOG_LINE_CHARS = 8 * 1024;
const MAX_LOG_BYTES_PER_CALL = 64 * 1024;

/**
 * The call running on a thread now. Log lines and notifications from a kept instance belong to
 * it, not to the call that created the instance; between calls they go to `idle`.
 */
export class CallScope {
  private sinks?: ScopeSinks;
  private notifications = 0;
  private logBytes = 0;

  constructor(private readonly idle: (level: LogLevelName, message: string) => void) {}

  begin(sinks: ScopeSinks): void {
    this.sinks = sinks;
    this.notifications = 0;
    this.logBytes = 0;
  }

  end(): void {
    this.sinks = undefined;
  }

  /** The hooks an instance is made with: they always speak for the call running now. */
  readonly hooks: { log: PluginLog; notify: Notify; ask: Ask } = {
    log: (level, message) => {
      const sinks = this.sinks;
      if (!sinks) return this.idle(level, truncate(message, MAX_LOG_LINE_CHARS));
      if (this.logBytes >= MAX_LOG_BYTES_PER_CALL) return;
      this.logBytes += message.length;
      if (this.logBytes >= MAX_LOG_BYTES_PER_CALL) {
        return sinks.log(level, `${truncate(message, MAX_LOG_LINE_CHARS)} … (log output of this call cut at ${MAX_LOG_BYTES_PER_CALL / 1024} KiB)`);
      }
      sinks.log(level, truncate(message, MAX_LOG_LINE_CHARS));
    },
    notify: (method, json) => {
      const sinks = this.sinks;
      if (!sinks) return;
      this.notifications++;
      if (this.notifications === MAX_NOTIFICATIONS_PER_CALL + 1) {
        sinks.log("warn", `more than ${MAX_NOTIFICATIONS_PER_CALL} notifications in one call; dropping the rest`);
      }
      if (this.notifications <= MAX_NOTIFICATIONS_PER_CALL) sinks.notify(method, json);
    },
    // Answers the running call's questions from what it was given; the rest end the call.
    ask: (requests) => {
      const answers = this.sinks?.answers ?? {};
      const missing = Object.fromEntries(Object.entries(requests).filter(([key]) => !Object.hasOwn(answers, key)));
      if (Object.keys(missing).length > 0) throw new InputNeeded(missing);
      return Object.fromEntries(Object.keys(requests).map((key) => [key, answers[key]]));
    },
  };
}

// @extism/extism is loaded only where a plugin is met: plain modules start faster without it.
// Once loaded it is used without an await, so a call of a plugin that already has its instance
// runs its wasm synchronously, before execute() returns (in-thread.ts times that part).
let extismRuntime: Promise<typeof import("./extism-call.js")> | undefined;
let extismLoaded: typeof import("./extism-call.js") | undefined;
const extism = () => (extismRuntime ??= import("./extism-call.js").then((loaded) => (extismLoaded = loaded)));
// Components likewise: their runtime loads @bytecodealliance/preview2-shim, which starts a thread.
let componentRuntime: Promise<typeof import("./component-call.js")> | undefined;
const components = () => (componentRuntime ??= import("./component-call.js"));

/** Runs one call in `held`, making or reusing its instance as its state says. */
export async function execute(held: Held, call: Call, scope: CallScope, meter: Meter): Promise<CallValue> {
  const { options } = held;
  if (options.abi === "component") return (await components()).callComponent(held.component, options, call.shape, call.input, scope.hooks.log);
  if (options.abi === "extism") {
    const { callExtism, instantiateExtism } = extismLoaded ?? (await extism());
    const inst = held.extism ?? (await instantiateExtism(held.module, options, { ...scope.hooks, vars: held.vars, meter }));
    if (options.state === "keep") held.extism = inst;
    try {
      return await callExtism(inst, call.fn, call.input.kind === "text" ? call.input.text : "", options);
    } catch (err) {
      // A trap, a stop or a question unwinds the plugin mid-call: its memory may be inconsistent.
      if (spoilsInstance(err)) held.extism = undefined;
      throw err;
    } finally {
      if (options.state === "fresh") await inst.plugin.close();
    }
  }

  let inst: RawInstance | undefined;
  let failed = false;
  try {
    inst = held.raw ?? instantiateRaw(held.module, options, meter);
    held.raw = inst;
    return callRaw(inst, call.fn, call.shape, call.input, options);
  } catch (err) {
    failed = true;
    if (err instanceof InputNeeded) throw err;
    throw describeFailure(err, inst?.memory, options);
  } finally {
    const printed = inst?.wasi?.takeOutput();
    if (printed) scope.hooks.log("info", `module output: ${printed.trimEnd()}`);
    // "fresh": the next call must see no trace of this one; "keep": only a failure discards it.
    const reusable = options.state === "keep" ? !failed : inst !== undefined && resetRaw(inst);
    if (!reusable) held.raw = undefined;
  }
}
