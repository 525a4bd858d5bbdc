// A call worker: holds compiled modules posted by the pool and runs one call at a time. The pool
// terminates the whole worker when a call overruns its deadline or is cancelled, so nothing here
// needs to be interruptible.

import { parentPort } from "node:worker_threads";
import { callExtism, instantiateExtism, type ExtismInstance } from "./extism-call.js";
import type { CallValue, FromWorker, LoadOptions, ToWorker } from "./protocol.js";
import { callRaw, describeFailure, instantiateRaw, ToolError, type RawInstance } from "./raw-call.js";

interface Loaded {
  module: WebAssembly.Module;
  options: LoadOptions;
  raw?: RawInstance;
  extism?: ExtismInstance;
}

const port = parentPort!;
const loaded = new Map<string, Loaded>();
const send = (message: FromWorker) => port.postMessage(message);

// Calls arrive one at a time from the pool; the queue only guards against a load racing a call.
let chain: Promise<void> = Promise.resolve();
port.on("message", (message: ToWorker) => {
  chain = chain.then(() => handle(message));
});

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case "load":
      loaded.set(message.key, { module: message.module, options: message.options });
      return;
    case "unload":
      loaded.delete(message.key);
      return;
    case "call": {
      const entry = loaded.get(message.key);
      if (!entry) {
        send({ type: "result", id: message.id, ok: false, error: `module ${message.key} is not loaded in this worker` });
        return;
      }
      try {
        const value = await run(entry, message, message.id);
        send({ type: "result", id: message.id, ok: true, value });
      } catch (err) {
        send({ type: "result", id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}

async function run(entry: Loaded, call: Extract<ToWorker, { type: "call" }>, id: number): Promise<CallValue> {
  const { options } = entry;
  const key = call.key;
  if (options.abi === "extism") {
    const inst = entry.extism ?? (await instantiateExtism(entry.module, options, (level, msg) => send({ type: "log", id, key, level, message: msg })));
    if (options.state === "keep") entry.extism = inst;
    try {
      return await callExtism(inst, call.fn, call.input.kind === "text" ? call.input.text : "", options);
    } catch (err) {
      // A trap can leave the plugin's memory inconsistent: start the next call from a fresh instance.
      if (!(err instanceof ToolError) || /wasm trap|memory limit/.test(err.message)) entry.extism = undefined;
      throw err;
    } finally {
      if (options.state === "fresh") await inst.plugin.close();
    }
  }

  let inst: RawInstance | undefined;
  try {
    inst = entry.raw ?? instantiateRaw(entry.module, options);
    if (options.state === "keep") entry.raw = inst;
    return callRaw(inst, call.fn, call.shape, call.input, options);
  } catch (err) {
    entry.raw = undefined;
    throw describeFailure(err, inst, options);
  } finally {
    const printed = inst?.wasi?.takeOutput();
    if (printed) send({ type: "log", id, key, level: "info", message: `module output: ${printed.trimEnd()}` });
  }
}
