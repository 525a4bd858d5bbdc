// Runs calls in worker threads. Wasm cannot be interrupted from outside its thread, so a call that
// overruns its deadline, or is cancelled, ends its worker; a fresh worker takes its place and gets
// the already compiled modules posted again (no recompile).
//
// Under load, a worker running a call of a tool that has been quick so far is also handed the next
// queued call of the same tool ("ahead"), so it goes straight on to it instead of sleeping until the
// main thread answers: waking a thread costs more than such a call. A call sent ahead is never run
// twice: if its worker dies before the call starts, it goes back to the queue; if it is cancelled,
// the worker is told to skip it. Whether it has started, the pool reads from memory it shares with
// the worker, which marks each call it starts there (see revoke()).

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { log } from "../core/log.js";
import type { CallShape } from "../discovery/types.js";
import type { NotificationMethod } from "./host-functions.js";
import type { CallInput, CallValue, FromWorker, InputRequests, LoadOptions, ToWorker } from "./protocol.js";

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
  timeoutMs: number;
  signal?: AbortSignal;
  /** Log lines the module produced during this call. */
  onLog?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
  /** MCP notifications the module sent through a host function during this call (JSON, unchecked). */
  onNotify?: (method: NotificationMethod, json: string) => void;
  /** The call left the queue and is running in a worker. */
  onStart?: () => void;
}

interface Job {
  id: number;
  request: CallRequest;
  resolve: (outcome: CallOutcome) => void;
  slot?: Slot;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
  startedAt?: number;
  /** Cancelled by the client while it was ahead in a worker: settled already, the worker skips it. */
  cancelled?: boolean;
}

interface Slot {
  worker: Worker;
  loaded: Set<string>;
  /** The call the worker is running. */
  job?: Job;
  /** The call it runs next, sent ahead of time (see above). */
  ahead?: Job;
  retired: boolean;
  /** The worker has started up; only then does it get calls, so a deadline never counts start-up. */
  ready: boolean;
  /** Shared with the worker: the id of the call it started last, or REVOKED once the pool ends it. */
  started: Int32Array;
}

/** In Slot.started: the worker must start nothing more. */
const REVOKED = -1;

const WORKER_URL = new URL("./worker.js", import.meta.url);

/** A tool whose calls have taken less than this (moving average) may be sent ahead. */
const QUICK_CALL_MS = 2;

export function defaultPoolSize(): number {
  // At least 4, so a couple of slow calls on a small machine do not hold up every other module.
  return Math.max(4, availableParallelism());
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly modules = new Map<string, { module: WebAssembly.Module; options: LoadOptions }>();
  /** Moving average of call durations per tool (module key + export), in milliseconds. */
  private readonly durations = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  /** Shared with every worker: at most one of them polls for work at a time (see worker.ts). */
  private readonly pollToken = new Int32Array(new SharedArrayBuffer(4));

  /** One worker starts at once; more start only when calls wait, up to `size`. */
  constructor(readonly size: number = defaultPoolSize()) {
    this.slots.push(this.spawn());
  }

  register(key: string, module: WebAssembly.Module, options: LoadOptions): void {
    this.modules.set(key, { module, options });
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
    const started = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(WORKER_URL, {
      workerData: { pollToken: this.pollToken, started },
      // A worker's own stdout would be forwarded to ours, which carries the protocol.
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const slot: Slot = { worker, loaded: new Set(), retired: false, ready: false, started };
    worker.stdout.on("data", (chunk: Buffer) => log.info(`worker output: ${chunk.toString().trimEnd()}`));
    worker.stderr.on("data", (chunk: Buffer) => log.debug(`worker stderr: ${chunk.toString().trimEnd()}`));
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
      else log[message.level](`[${message.key}] ${message.message}`);
      return;
    }
    if (message.type === "notify") {
      // Only the call that is still running may speak to its client; late ones are dropped.
      if (job && message.id === job.id) job.request.onNotify?.(message.method, message.json);
      return;
    }
    if (!job || job.id !== message.id) return;
    if (message.type === "skipped") return this.complete(slot, job);
    if (message.type === "input") {
      return this.complete(slot, job, { ok: false, error: "the call asks its client for input", reason: "input", requests: message.requests });
    }
    this.complete(slot, job, message.ok ? { ok: true, value: message.value } : { ok: false, error: message.error, reason: "tool" });
  }

  /** The worker finished (or skipped) its running call; the call sent ahead, if any, now runs. */
  private complete(slot: Slot, job: Job, outcome?: CallOutcome): void {
    clearTimeout(job.timer);
    slot.job = undefined;
    if (outcome && job.startedAt !== undefined) {
      const key = toolKey(job);
      const took = performance.now() - job.startedAt;
      const previous = this.durations.get(key);
      this.durations.set(key, previous === undefined ? took : previous * 0.8 + took * 0.2);
    }
    if (outcome) this.settle(job, outcome);
    const ahead = slot.ahead;
    if (ahead) {
      slot.ahead = undefined;
      this.begin(slot, ahead);
    }
    this.dispatch();
  }

  private cancel(job: Job): void {
    const slot = job.slot;
    this.settle(job, { ok: false, error: "cancelled by the client", reason: "cancelled" });
    if (!slot) {
      const queued = this.queue.indexOf(job);
      if (queued >= 0) this.queue.splice(queued, 1);
    } else if (slot.job === job) {
      // A worker that already finished this call and started the one sent ahead is not stuck in it.
      if (this.revoke(slot)) this.kill(slot);
    } else if (slot.ahead === job) {
      // It may not have started: the worker skips it. If it has, its deadline still holds.
      job.cancelled = true;
      this.post(slot, { type: "cancel", id: job.id });
    }
    this.dispatch();
  }

  private onCrash(slot: Slot, why: string): void {
    if (slot.retired) return;
    const crashed: CallOutcome = { ok: false, error: `the module crashed its worker (${why})`, reason: "crash" };
    if (slot.job) this.settle(slot.job, crashed);
    // A call sent ahead that the worker had started may be what crashed it: it is not run again.
    if (slot.ahead && !this.revoke(slot)) this.settle(slot.ahead, crashed);
    this.retire(slot);
  }

  /**
   * Takes back the calls a worker has not started, so it may be ended. False when it has already
   * started the call sent ahead: it is past the call it was running, and that call will not run again.
   */
  private revoke(slot: Slot): boolean {
    for (;;) {
      const last = Atomics.load(slot.started, 0);
      if (last === REVOKED) return true;
      if (slot.ahead && last === slot.ahead.id) return false;
      if (Atomics.compareExchange(slot.started, 0, last, REVOKED) === last) return true;
    }
  }

  /** Ends a worker whose call overran or was cancelled. */
  private kill(slot: Slot): void {
    if (slot.retired) return;
    void slot.worker.terminate();
    this.retire(slot);
  }

  /** Drops a dead worker: its call sent ahead (never started) goes back to the queue; one worker always stays warm. */
  private retire(slot: Slot): void {
    slot.retired = true;
    clearTimeout(slot.job?.timer);
    slot.job = undefined;
    const ahead = slot.ahead;
    slot.ahead = undefined;
    if (ahead && !ahead.cancelled && ahead.resolve !== settled) {
      ahead.slot = undefined;
      this.queue.unshift(ahead);
    }
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
      const job = this.nextJob();
      if (!job) break;
      this.send(slot, job, this.queue.length === 0 && this.slots.every((s) => s === slot || !s.job));
      this.begin(slot, job);
    }
    if (this.queue.length > 0) this.sendAhead();
    // Calls still waiting: start workers for them (each takes a few tens of milliseconds).
    const starting = this.slots.filter((s) => !s.ready && !s.retired).length;
    for (let waiting = this.queue.length - starting; waiting > 0 && this.slots.length < this.size; waiting--) {
      this.slots.push(this.spawn());
    }
  }

  /** Hands each busy worker running a quick tool the next queued call of that same tool. */
  private sendAhead(): void {
    const now = performance.now();
    for (const slot of this.slots) {
      const running = slot.job;
      if (!running || slot.ahead || slot.retired || running.startedAt === undefined) continue;
      const usual = this.durations.get(toolKey(running));
      if (usual === undefined || usual > QUICK_CALL_MS || now - running.startedAt > QUICK_CALL_MS) continue;
      const index = this.queue.findIndex((j) => toolKey(j) === toolKey(running));
      if (index < 0) continue;
      const job = this.queue.splice(index, 1)[0]!;
      slot.ahead = job;
      this.send(slot, job, false);
      if (this.queue.length === 0) return;
    }
  }

  /**
   * FIFO, except that one module may not occupy every worker while calls to other modules wait:
   * a slow module never starves a fast one.
   */
  private nextJob(): Job | undefined {
    const busy = new Map<string, number>();
    for (const s of this.slots) if (s.job) busy.set(s.job.request.key, (busy.get(s.job.request.key) ?? 0) + 1);
    const limit = Math.max(1, this.size - 1);
    const index = this.queue.findIndex((j) => (busy.get(j.request.key) ?? 0) < limit);
    return index < 0 ? undefined : this.queue.splice(index, 1)[0];
  }

  /** Posts a call (and its module, the first time) to a worker. `poll`: see worker.ts. */
  private send(slot: Slot, job: Job, poll: boolean): void {
    const { key, fn, shape, input, answers } = job.request;
    const entry = this.modules.get(key);
    job.slot = slot;
    if (entry && !slot.loaded.has(key)) {
      this.post(slot, { type: "load", key, module: entry.module, options: entry.options });
      slot.loaded.add(key);
    }
    this.post(slot, { type: "call", id: job.id, key, fn, shape, input, poll, ...(answers ? { answers } : {}) });
  }

  /** The call runs now: its deadline starts. */
  private begin(slot: Slot, job: Job): void {
    slot.job = job;
    job.startedAt = performance.now();
    const { timeoutMs } = job.request;
    job.timer = setTimeout(() => {
      this.settle(job, { ok: false, error: `timed out after ${timeoutMs} ms`, reason: "timeout" });
      if (this.revoke(slot)) this.kill(slot);
    }, timeoutMs);
    if (!job.cancelled) job.request.onStart?.();
  }

  private post(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }
}

function toolKey(job: Job): string {
  return `${job.request.key}\0${job.request.fn}`;
}

function settled(): void {}
