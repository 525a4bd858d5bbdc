// Decides where each call runs. A quick call of a metered module runs on the protocol thread
// (runtime/in-thread.ts): a hop to a worker costs more than such a call. Everything else, and any
// call that outruns its time slice there, runs in the worker pool (runtime/pool.ts). The rules are
// runtime/schedule.ts's.
//
// What always runs in workers: modules that could not be metered (nothing could stop them on the
// protocol thread), and Extism plugins that may reach the network (http_request waits on it).

import { writeLog } from "../core/log.js";
import type { CallOutcome, CallRequest, WorkerPool } from "./pool.js";
import type { PreparedModule } from "./prepare.js";
import type { LoadOptions } from "./protocol.js";
import { ThreadRunner } from "./in-thread.js";
import { place, preempted, record, SLICE_MS, type ToolHistory } from "./schedule.js";

export class Runner {
  private readonly thread = new ThreadRunner();
  /** Per tool (module version + export). */
  private readonly histories = new Map<string, ToolHistory>();
  /** Where each tool's calls went last, to log when that changes. */
  private readonly placed = new Map<string, "thread" | "worker">();
  /** Calls preempted on the protocol thread and run again in a worker (for the metrics). */
  preemptions = 0;

  constructor(readonly pool: WorkerPool) {}

  /** `metered`: a large module's metered form, made after it loaded (runtime/prepare.ts). */
  register(key: string, module: WebAssembly.Module, options: LoadOptions, metered?: Promise<PreparedModule | undefined>): void {
    this.pool.register(key, module, options);
    if (mayRunOnThread(options)) this.thread.register(key, module, options);
    void metered?.then((ready) => {
      if (!ready || !mayRunOnThread(ready.options) || !this.pool.has(key)) return;
      // A module that keeps its state and has already served calls from workers stays there: its
      // calls would otherwise meet a second instance on the protocol thread.
      if (ready.options.state === "keep" && [...this.histories.keys()].some((tool) => tool.startsWith(`${key}\0`))) return;
      this.thread.register(key, ready.module, ready.options);
    });
  }

  unregister(key: string): void {
    this.pool.unregister(key);
    this.thread.unregister(key);
    for (const tool of this.histories.keys()) if (tool.startsWith(`${key}\0`)) this.histories.delete(tool);
    for (const tool of this.placed.keys()) if (tool.startsWith(`${key}\0`)) this.placed.delete(tool);
  }

  async call(request: CallRequest): Promise<CallOutcome> {
    const tool = `${request.key}\0${request.fn}`;
    const history = this.histories.get(tool) ?? {};
    const received = performance.now();
    const where = place({ ...this.thread.placement(request.key), history });
    if (where !== this.placed.get(tool)) {
      this.placed.set(tool, where);
      writeLog("debug", `${request.fn} (module ${request.key.slice(0, 12)}) runs ${where === "thread" ? "on the protocol thread" : "in workers"} (average ${history.averageMs?.toFixed(3) ?? "?"} ms)`);
    }
    if (where === "thread") {
      const ran = await this.thread.run(request, SLICE_MS);
      if (ran !== "preempted") {
        this.histories.set(tool, record(history, ran.ms));
        return ran.outcome;
      }
      // Too slow for the protocol thread: it counts as slow, and runs again from its start in a
      // worker, with what is left of its deadline.
      this.preemptions++;
      this.histories.set(tool, preempted(history));
      return this.pool.call({ ...request, leftMs: Math.max(1, request.timeoutMs - (performance.now() - received)) });
    }
    const outcome = await this.pool.call({ ...request, onRan: (ms) => this.histories.set(tool, record(this.histories.get(tool) ?? {}, ms)) });
    return outcome;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function mayRunOnThread(options: LoadOptions): boolean {
  if (!options.metered) return false;
  return !(options.extism && options.extism.allowedHosts.length > 0);
}
