// A call worker: holds compiled modules posted by the pool and runs one call at a time. A metered
// module's call stops itself at its deadline (the meter traps it) and the worker goes on; anything
// else that overruns is ended by the pool terminating the whole worker, so nothing here needs to
// be interruptible from outside.

import { parentPort } from "node:worker_threads";
import { CallScope, execute, hold, type Held } from "./execute.js";
import { InputNeeded } from "./host-functions.js";
import { createMeter } from "./meter-host.js";
import type { FromWorker, ToWorker } from "./protocol.js";

const port = parentPort!;
const loaded = new Map<string, Held>();
const send = (message: FromWorker) => port.postMessage(message);
const meter = createMeter();

let running: { id: number; key: string } | undefined;
// Output of a kept instance between calls is logged as the module's, for no call in particular.
const scope = new CallScope((level, message) => send({ type: "log", key: running?.key ?? "", level, message }));

const inbox: ToWorker[] = [];
let draining = false;
port.on("message", (message: ToWorker) => {
  inbox.push(message);
  if (!draining) void drain();
});
send({ type: "ready" });

// One message at a time, in order: a call's load message comes before it.
async function drain(): Promise<void> {
  draining = true;
  for (let message = inbox.shift(); message; message = inbox.shift()) await handle(message);
  draining = false;
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case "load":
      loaded.set(message.key, hold(message.module, message.options));
      return;
    case "unload":
      loaded.delete(message.key);
      return;
    case "call": {
      const held = loaded.get(message.key);
      if (!held) {
        send({ type: "result", id: message.id, ok: false, error: `module ${message.key} is not loaded in this worker` });
        return;
      }
      const { id, key } = message;
      running = { id, key };
      scope.begin({
        log: (level, text) => send({ type: "log", id, key, level, message: text }),
        notify: (method, json) => send({ type: "notify", id, key, method, json }),
        answers: message.answers ?? {},
      });
      meter.begin(performance.now() + message.budgetMs);
      try {
        const value = await execute(held, message, scope, meter);
        send({ type: "result", id, ok: true, value });
      } catch (err) {
        if (err instanceof InputNeeded) send({ type: "input", id, requests: err.requests });
        else if (meter.stopped === "deadline") send({ type: "result", id, ok: false, error: `timed out after ${message.timeoutMs} ms`, timedOut: true });
        else send({ type: "result", id, ok: false, error: err instanceof Error ? err.message : String(err) });
      } finally {
        scope.end();
        running = undefined;
      }
    }
  }
}
