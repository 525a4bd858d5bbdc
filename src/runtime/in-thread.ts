// Calls on the protocol thread: quick calls of metered modules run here, in this thread's own
// instances, one at a time, each with a time slice. The meter stops a call that outruns its slice
// ("preempted"): whatever it did is thrown away — its instance (or the changes to it), its
// plugin variables, its log lines and notifications, none of which were passed on yet — and the
// runner sends it to a worker, where it runs again from its start.

import { writeLog } from "../core/log.js";
import { serialQueue } from "../core/serial.js";
import { CallScope, execute, hold, type Held } from "./execute.js";
import { InputNeeded, type NotificationMethod } from "./host-functions.js";
import { createMeter } from "./meter-host.js";
import type { CallOutcome, CallRequest } from "./pool.js";
import type { LoadOptions } from "./protocol.js";

export type ThreadRun = { outcome: CallOutcome; ms: number } | "preempted";

export class ThreadRunner {
  private readonly held = new Map<string, Held>();
  private readonly meter = createMeter();
  private readonly scope = new CallScope((level, message) => writeLog(level, message));
  /** One call at a time: the meter and the scope belong to the call running now. */
  private readonly queue = serialQueue();

  register(key: string, module: WebAssembly.Module, options: LoadOptions): void {
    this.held.set(key, hold(module, options));
  }

  /** Calls already running on the module finish with the instance they have. */
  unregister(key: string): void {
    this.held.delete(key);
  }

  /** Whether this thread may run the module's calls, and whether it keeps its instance between them (state = "keep"). */
  placement(key: string): { eligible: boolean; keep: boolean } {
    const held = this.held.get(key);
    return { eligible: held !== undefined, keep: held?.options.state === "keep" };
  }

  run(request: CallRequest, sliceMs: number): Promise<ThreadRun> {
    return this.queue(async () => {
      const held = this.held.get(request.key);
      // Unloaded while the call waited its turn: a worker tells it so, or runs the new version.
      if (!held) return "preempted";
      if (request.signal?.aborted) return { outcome: { ok: false, error: "cancelled by the client", reason: "cancelled" }, ms: 0 };
      const lines: [Parameters<NonNullable<CallRequest["onLog"]>>[0], string][] = [];
      const notes: [NotificationMethod, string][] = [];
      const vars = { values: new Map(held.vars.values), bytes: held.vars.bytes };
      this.scope.begin({ log: (level, message) => lines.push([level, message]), notify: (method, json) => notes.push([method, json]), answers: request.answers ?? {} });
      const started = performance.now();
      this.meter.begin(started + request.timeoutMs, started + sliceMs);
      request.onStart?.();
      let outcome: CallOutcome;
      // The module's code runs before execute() returns its promise (for a plugin, once it has its
      // instance): that is the call's time. What follows the awaits shares the thread with other
      // requests' work, which is not this call's.
      let ms: number | undefined;
      try {
        const running = execute(held, request, this.scope, this.meter);
        ms = performance.now() - started;
        outcome = { ok: true, value: await running };
      } catch (err) {
        if (this.meter.stopped === "slice") {
          held.vars.values = vars.values;
          held.vars.bytes = vars.bytes;
          return "preempted";
        }
        if (err instanceof InputNeeded) outcome = { ok: false, error: err.message, reason: "input", requests: err.requests };
        else if (this.meter.stopped === "deadline") outcome = { ok: false, error: `timed out after ${request.timeoutMs} ms`, reason: "timeout" };
        else outcome = { ok: false, error: err instanceof Error ? err.message : String(err), reason: "tool" };
      } finally {
        this.scope.end();
      }
      ms ??= performance.now() - started;
      for (const [level, message] of lines) request.onLog?.(level, message);
      for (const [method, json] of notes) request.onNotify?.(method, json);
      return { outcome, ms };
    });
  }
}
