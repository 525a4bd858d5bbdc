// Runs calls in worker threads. A metered module's call stops itself at its deadline; a call that
// is not metered and overruns, or any call the client cancels, ends its worker, and a fresh worker
// takes its place and gets the already compiled modules posted again (no recompile). Which calls
// come here at all is the runner's choice (runtime/runner.ts); the order they run in is
// runtime/schedule.ts's.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { writeLog } from "../core/log.js";
import type { CallShape } from "../discovery/types.js";
import type { NotificationMethod } from "./host-functions.js";
import type { CallInput, CallValue, FromWorker, InputRequests, LoadOptions, ToWorker } from "./protocol.js";
import { pickNext, workersToStart } from "./schedule.js";

export type CallOutcome =
  | { ok: true; value: CallValue }
  | { ok: false; error: string; reason: "tool" | "timeout" | "cancelled" | "crash" }
  /** The call asked its client questions it has no answers for: run it again with them. */
  | { ok: false; error: string; reason: "input"; requests: InputRequests };

export interface CallRequest {
  key: string;
  fn: string;
  shape: CallShape;
  input: CallInput;
  /** Answers to the questions the call asked its client on an earlier run, by key. */
  answers?: Record<string, unknown>;
  /** The call's deadline, as configured: what a timeout's message names. */
  timeoutMs: number;
  /** What is left of it, when the call already ran a while elsewhere (default: all of it). */
  leftMs?: number;
  signal?: AbortSignal;
  /** Log lines the module produced during this call. */
  onLog?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
  /** MCP notifications the module sent through a host function during this call (JSON, unchecked). */
  onNotify?: (method: NotificationMethod, json: string) => void;
  /** The call left the queue and is running. */
  onStart?: () => void;
  /** The call finished in a worker after running this long (ms), for the runner's history. */
  onRan?: (ms: number) => void;
}

interface Job {
  id: number;
  request: CallRequest;
  resolve: (outcome: CallOutcome) => void;
  slot?: Slot;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
  startedAt?: number;
}

interface Slot {
  worker: Worker;
  loaded: Set<string>;
  /** The call the worker is running. */
  job?: Job;
  retired: boolean;
  /** The worker has started up; only then does it get calls, so a deadline never counts start-up. */
  ready: boolean;
}

const WORKER_URL = new URL("./worker.js", import.meta.url);

/** A metered call stops itself at its deadline; the worker is ended only if it has not answered this much later. */
const METERED_GRACE_MS = 100;

export function defaultPoolSize(): number {
  // At least 4, so a couple of slow calls on a small machine do not hold up every other module.
  return Math.max(4, availableParallelism());
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly modules = new Map<string, { module: WebAssembly.Module; options: LoadOptions }>();
  private nextId = 1;
  private closed = false;
  /** Workers ended or lost (timeouts, cancellations, crashes), for the metrics. */
  restarts = 0;

  /** One worker starts at once; more start when calls wait, up to `size`. */
  constructor(readonly size: number = defaultPoolSize()) {
    this.slots.push(this.spawn());
  }

  register(key: string, module: WebAssembly.Module, options: LoadOptions): void {
    this.modules.set(key, { module, options });
  }

  has(key: string): boolean {
    return this.modules.has(key);
  }

  /** Forgets a module; calls already running on it finish with the instance they have. */
  unregister(key: string): void {
    if (!this.modules.delete(key)) return;
    for (const slot of this.slots) {
      if (slot.loaded.delete(key)) this.post(slot, { type: "unload", key });
    }
  }

  call(request: CallRequest): Promise<CallOutcome> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ ok: false, error: "server is shutting down", reason: "crash" });
      if (!this.modules.has(request.key)) return resolve({ ok: false, error: `module ${request.key} is not loaded`, reason: "crash" });
      const job: Job = { id: this.nextId++, request, resolve };
      if (request.signal) {
        if (request.signal.aborted) return resolve({ ok: false, error: "cancelled by the client", reason: "cancelled" });
        job.onAbort = () => this.cancel(job);
        request.signal.addEventListener("abort", job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, { ok: false, error: "server is shutting down", reason: "crash" });
    await Promise.all(this.slots.map((s) => ((s.retired = true), s.worker.terminate())));
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      // A worker's own stdout would be forwarded to ours, which carries the protocol.
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const slot: Slot = { worker, loaded: new Set(), retired: false, ready: false };
    worker.stdout.on("data", (chunk: Buffer) => writeLog("info", `worker output: ${chunk.toString().trimEnd()}`));
    worker.stderr.on("data", (chunk: Buffer) => writeLog("debug", `worker stderr: ${chunk.toString().trimEnd()}`));
    worker.on("message", (message: FromWorker) => this.onMessage(slot, message));
    worker.on("error", (err) => this.onCrash(slot, `worker failed: ${err.message}`));
    worker.on("exit", (code) => this.onCrash(slot, `worker exited with code ${code}`));
    worker.unref();
    return slot;
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    if (message.type === "ready") {
      slot.ready = true;
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (message.type === "log") {
      if (job && message.id === job.id) job.request.onLog?.(message.level, message.message);
      else writeLog(message.level, `[${message.key}] ${message.message}`);
      return;
    }
    if (message.type === "notify") {
      // Only the call that is still running may speak to its client; late ones are dropped.
      if (job && message.id === job.id) job.request.onNotify?.(message.method, message.json);
      return;
    }
    if (!job || job.id !== message.id) return;
    if (message.type === "input") {
      return this.complete(slot, job, { ok: false, error: "the call asks its client for input", reason: "input", requests: message.requests });
    }
    if (message.ok) return this.complete(slot, job, { ok: true, value: message.value });
    this.complete(slot, job, { ok: false, error: message.error, reason: message.timedOut ? "timeout" : "tool" });
  }

  /** The worker finished (or skipped) its call. */
  private complete(slot: Slot, job: Job, outcome?: CallOutcome): void {
    clearTimeout(job.timer);
    slot.job = undefined;
    if (outcome && (outcome.ok || outcome.reason === "tool") && job.startedAt !== undefined) job.request.onRan?.(performance.now() - job.startedAt);
    if (outcome) this.settle(job, outcome);
    this.dispatch();
  }

  private cancel(job: Job): void {
    const slot = job.slot;
    this.settle(job, { ok: false, error: "cancelled by the client", reason: "cancelled" });
    if (!slot) {
      const queued = this.queue.indexOf(job);
      if (queued >= 0) this.queue.splice(queued, 1);
    } else if (slot.job === job) {
      this.kill(slot);
    }
    this.dispatch();
  }

  private onCrash(slot: Slot, why: string): void {
    if (slot.retired) return;
    if (slot.job) this.settle(slot.job, { ok: false, error: `the module crashed its worker (${why})`, reason: "crash" });
    this.retire(slot);
  }

  /** Ends a worker whose call overran or was cancelled. */
  private kill(slot: Slot): void {
    if (slot.retired) return;
    writeLog("debug", `ended a worker whose call ${slot.job ? `of ${slot.job.request.fn} ` : ""}could not be stopped otherwise`);
    void slot.worker.terminate();
    this.retire(slot);
  }

  /** Drops a dead worker; one worker always stays warm. */
  private retire(slot: Slot): void {
    slot.retired = true;
    this.restarts++;
    clearTimeout(slot.job?.timer);
    slot.job = undefined;
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    if (this.slots.length === 0 && !this.closed) this.slots.push(this.spawn());
    this.dispatch();
  }

  /** Resolves a call once; later outcomes (a cancelled call that ran anyway) are dropped. */
  private settle(job: Job, outcome: CallOutcome): void {
    if (job.resolve === settled) return;
    const resolve = job.resolve;
    job.resolve = settled;
    if (job.onAbort) job.request.signal?.removeEventListener("abort", job.onAbort);
    resolve(outcome);
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.job || slot.retired || !slot.ready) continue;
      const busy = new Map<string, number>();
      for (const s of this.slots) if (s.job) busy.set(s.job.request.key, (busy.get(s.job.request.key) ?? 0) + 1);
      const index = pickNext(this.queue.map((j) => j.request.key), busy, this.size);
      if (index < 0) break;
      this.begin(slot, this.queue.splice(index, 1)[0]!);
    }
    const starting = this.slots.filter((s) => !s.ready && !s.retired).length;
    const idle = this.slots.filter((s) => s.ready && !s.job && !s.retired).length;
    const spawn = workersToStart({ workers: this.slots.length, starting, idle, waiting: this.queue.length, poolSize: this.size });
    for (let i = 0; i < spawn; i++) this.slots.push(this.spawn());
  }

  /** Posts the call (and its module, the first time) to an idle worker; its deadline starts now. */
  private begin(slot: Slot, job: Job): void {
    const { key, fn, shape, input, answers, timeoutMs } = job.request;
    const budget = Math.max(1, Math.round(job.request.leftMs ?? timeoutMs));
    const entry = this.modules.get(key);
    job.slot = slot;
    slot.job = job;
    if (entry && !slot.loaded.has(key)) {
      this.post(slot, { type: "load", key, module: entry.module, options: entry.options });
      slot.loaded.add(key);
    }
    this.post(slot, { type: "call", id: job.id, key, fn, shape, input, timeoutMs, budgetMs: budget, ...(answers ? { answers } : {}) });
    job.startedAt = performance.now();
    // A metered call stops itself; the timer is the backstop for code that cannot be stopped so.
    const grace = entry?.options.metered ? METERED_GRACE_MS : 0;
    job.timer = setTimeout(() => {
      this.settle(job, { ok: false, error: `timed out after ${timeoutMs} ms`, reason: "timeout" });
      this.kill(slot);
    }, budget + grace);
    job.request.onStart?.();
  }

  private post(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }
}

function settled(): void {}
