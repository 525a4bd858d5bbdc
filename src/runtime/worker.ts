// A call worker: holds compiled modules posted by the pool and runs one call at a time. The pool
// terminates the whole worker when a call overruns its deadline or is cancelled, so nothing here
// needs to be interruptible.

import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import type { ExtismInstance, PluginLog, PluginVars } from "./extism-call.js";
import { InputNeeded, type Ask, type Notify } from "./host-functions.js";
import type { CallValue, FromWorker, LoadOptions, ToWorker } from "./protocol.js";
import { describeFailure, spoilsInstance, truncate } from "./failure.js";
import { callRaw, instantiateRaw, resetRaw, type RawInstance } from "./raw-call.js";

interface Loaded {
  module: WebAssembly.Module;
  options: LoadOptions;
  /** The instance the next call uses: kept ("keep"), or reset to its first state ("fresh"). */
  raw?: RawInstance;
  extism?: ExtismInstance;
  /** A plugin's variables: they outlive an instance discarded after a trap. */
  vars: PluginVars;
}

// @extism/extism is loaded only by workers that meet a plugin: plain modules start faster without it.
let extismRuntime: Promise<typeof import("./extism-call.js")> | undefined;
const extism = () => (extismRuntime ??= import("./extism-call.js"));

const port = parentPort!;
const loaded = new Map<string, Loaded>();
const send = (message: FromWorker) => port.postMessage(message);

/**
 * The call running now. Log lines and notifications from a kept instance belong to it, not to the
 * call that created the instance.
 */
let current: { id: number; notifications: number; logBytes: number; answers: Record<string, unknown> } | undefined;
const MAX_NOTIFICATIONS_PER_CALL = 1000;
/** Log volume a module may produce: per line, and per call (beyond it, one marker line). */
const MAX_LOG_LINE_CHARS = 8 * 1024;
const MAX_LOG_BYTES_PER_CALL = 64 * 1024;

const pluginLog = (key: string): PluginLog => (level, message) => {
  if (current) {
    if (current.logBytes >= MAX_LOG_BYTES_PER_CALL) return;
    current.logBytes += message.length;
    if (current.logBytes >= MAX_LOG_BYTES_PER_CALL) {
      message = `${truncate(message, MAX_LOG_LINE_CHARS)} … (log output of this call cut at ${MAX_LOG_BYTES_PER_CALL / 1024} KiB)`;
      return send({ type: "log", id: current.id, key, level, message });
    }
  }
  send({ type: "log", id: current?.id, key, level, message: truncate(message, MAX_LOG_LINE_CHARS) });
};

const pluginNotify = (key: string): Notify => (method, json) => {
  if (!current) return;
  current.notifications++;
  if (current.notifications > MAX_NOTIFICATIONS_PER_CALL) {
    if (current.notifications === MAX_NOTIFICATIONS_PER_CALL + 1) {
      send({ type: "log", id: current.id, key, level: "warn", message: `more than ${MAX_NOTIFICATIONS_PER_CALL} notifications in one call; dropping the rest` });
    }
    return;
  }
  send({ type: "notify", id: current.id, key, method, json });
};

/** Answers the running call's questions from what it was given; the rest end the call (InputNeeded). */
const pluginAsk: Ask = (requests) => {
  const answers = current?.answers ?? {};
  const missing = Object.fromEntries(Object.entries(requests).filter(([key]) => !Object.hasOwn(answers, key)));
  if (Object.keys(missing).length > 0) throw new InputNeeded(missing);
  return Object.fromEntries(Object.keys(requests).map((key) => [key, answers[key]]));
};

/**
 * After a call, the worker keeps polling its port for a moment before it goes back to sleep: waking
 * a sleeping thread costs tens of microseconds, more than most calls take, and the next call of a
 * busy client usually arrives within this window. Only one worker of the pool polls at a time
 * (`pollToken`), so polling never takes more than one core from the server.
 */
const POLL_AFTER_CALL_MS = 0.25;
const { pollToken, started } = workerData as { pollToken: Int32Array; started: Int32Array };
/** In `started`, set by the pool: it is ending this worker, which must start nothing more. */
const REVOKED = -1;

/** Marks call `id` as started where the pool can read it, unless the pool is ending this worker. */
function claim(id: number): boolean {
  const last = Atomics.load(started, 0);
  return last !== REVOKED && Atomics.compareExchange(started, 0, last, id) === last;
}

const inbox: ToWorker[] = [];
let draining = false;
port.on("message", (message: ToWorker) => {
  inbox.push(message);
  if (!draining) void drain();
});
send({ type: "ready" });

/** Calls cancelled while they waited here (sent ahead of time by the pool). */
const cancelled = new Set<number>();
/** Ids grow; a cancel for a call already started or done is ignored. */
let lastStarted = 0;

async function drain(): Promise<void> {
  draining = true;
  let polling = false;
  for (;;) {
    const message: ToWorker | undefined = inbox.shift() ?? (polling ? poll() : undefined);
    if (!message) break;
    if (message.type === "call") {
      // A cancel for this call may be waiting behind it: read everything already sent.
      for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) inbox.push(r.message as ToWorker);
      for (const m of inbox) if (m.type === "cancel") cancelled.add(m.id);
      lastStarted = message.id;
      if (cancelled.delete(message.id)) {
        send({ type: "skipped", id: message.id });
        continue;
      }
      // The pool took this worker's calls back (a call it sent ahead goes elsewhere): it is ending it.
      if (!claim(message.id)) return;
    }
    await handle(message);
    if (message.type === "call") polling = message.poll;
  }
  draining = false;
}

function poll(): ToWorker | undefined {
  if (Atomics.compareExchange(pollToken, 0, 0, 1) !== 0) return undefined;
  try {
    const until = performance.now() + POLL_AFTER_CALL_MS;
    do {
      const received = receiveMessageOnPort(port);
      if (received) return received.message as ToWorker;
    } while (performance.now() < until);
    return undefined;
  } finally {
    Atomics.store(pollToken, 0, 0);
  }
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case "load":
      loaded.set(message.key, { module: message.module, options: message.options, vars: { values: new Map(), bytes: 0 } });
      return;
    case "unload":
      loaded.delete(message.key);
      return;
    case "cancel":
      if (message.id > lastStarted) cancelled.add(message.id);
      return;
    case "call": {
      const entry = loaded.get(message.key);
      if (!entry) {
        send({ type: "result", id: message.id, ok: false, error: `module ${message.key} is not loaded in this worker` });
        return;
      }
      current = { id: message.id, notifications: 0, logBytes: 0, answers: message.answers ?? {} };
      try {
        const value = await run(entry, message, message.id);
        send({ type: "result", id: message.id, ok: true, value });
      } catch (err) {
        if (err instanceof InputNeeded) send({ type: "input", id: message.id, requests: err.requests });
        else send({ type: "result", id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) });
      } finally {
        current = undefined;
      }
    }
  }
}

async function run(entry: Loaded, call: Extract<ToWorker, { type: "call" }>, id: number): Promise<CallValue> {
  const { options } = entry;
  const key = call.key;
  if (options.abi === "extism") {
    const { callExtism, instantiateExtism } = await extism();
    const inst = entry.extism ?? (await instantiateExtism(entry.module, options, { log: pluginLog(key), notify: pluginNotify(key), ask: pluginAsk, vars: entry.vars }));
    if (options.state === "keep") entry.extism = inst;
    try {
      return await callExtism(inst, call.fn, call.input.kind === "text" ? call.input.text : "", options);
    } catch (err) {
      // A trap can leave the plugin's memory inconsistent: start the next call from a fresh instance.
      if (spoilsInstance(err)) entry.extism = undefined;
      throw err;
    } finally {
      if (options.state === "fresh") await inst.plugin.close();
    }
  }

  let inst: RawInstance | undefined;
  let failed = false;
  try {
    inst = entry.raw ?? instantiateRaw(entry.module, options);
    entry.raw = inst;
    return callRaw(inst, call.fn, call.shape, call.input, options);
  } catch (err) {
    failed = true;
    throw describeFailure(err, inst?.memory, options);
  } finally {
    const printed = inst?.wasi?.takeOutput();
    if (printed) send({ type: "log", id, key, level: "info", message: `module output: ${printed.trimEnd()}` });
    // "fresh": the next call must see no trace of this one; "keep": only a failure discards it.
    const reusable = options.state === "keep" ? !failed : inst !== undefined && resetRaw(inst);
    if (!reusable) entry.raw = undefined;
  }
}
