// Where and when calls run, as pure functions of what has been seen, so the rules can be read
// (and tested) apart from the threads that carry them out.

/** A tool whose calls have taken less than this (moving average) is quick: it runs on the protocol thread. */
export const QUICK_CALL_MS = 1;
/** How long a call may hold the protocol thread before it is preempted and runs again in a worker. */
export const SLICE_MS = 5;

/** What the runner knows of one tool (module version + export). */
export interface ToolHistory {
  /** Moving average of its calls' running time, in ms; undefined before its first call. */
  averageMs?: number;
  /** A call of it was preempted on the protocol thread. */
  preempted?: boolean;
}

export interface Placement {
  /** The module's code is metered and nothing about the call needs a worker (see runtime/runner.ts). */
  eligible: boolean;
  /** The module keeps its instance between calls (state = "keep"). */
  keep: boolean;
  history: ToolHistory;
}

/**
 * "thread": run on the protocol thread, with a time slice; "worker": send to the pool. A tool is
 * tried on the protocol thread until its calls are seen to be slow (a preempted call counts as
 * slow), and comes back there once its worker runs are quick again.
 *
 * A module that keeps its state has an instance in each place it runs, so its calls move at most
 * once: they stay on the protocol thread until one is preempted, and in workers from then on.
 */
export function place({ eligible, keep, history }: Placement): "thread" | "worker" {
  if (!eligible) return "worker";
  if (keep) return history.preempted ? "worker" : "thread";
  return history.averageMs === undefined || history.averageMs < QUICK_CALL_MS ? "thread" : "worker";
}

/** The history after a call that ran for `ms` (a preempted one: pass how long it held the thread). */
export function record(history: ToolHistory, ms: number): ToolHistory {
  return { ...history, averageMs: history.averageMs === undefined ? ms : history.averageMs * 0.8 + ms * 0.2 };
}

/** A preempted call: the tool counts as slow at once, whatever its history. */
export function preempted(history: ToolHistory): ToolHistory {
  return { averageMs: Math.max(history.averageMs ?? 0, SLICE_MS), preempted: true };
}

/**
 * The index of the queued call a free worker takes next: the oldest, except that one module may
 * not occupy every worker while calls to other modules wait (a slow module never starves the
 * others). `queued` are the queued calls' module keys in order; `busy` counts running calls per key.
 */
export function pickNext(queued: readonly string[], busy: ReadonlyMap<string, number>, poolSize: number): number {
  const limit = Math.max(1, poolSize - 1);
  return queued.findIndex((key) => (busy.get(key) ?? 0) < limit);
}

/** Workers to start now: one per call waiting beyond those starting, and a spare when all are busy. */
export function workersToStart(state: { workers: number; starting: number; idle: number; waiting: number; poolSize: number }): number {
  const { workers, starting, idle, waiting, poolSize } = state;
  // A spare keeps a worker ready for the next slow call, so it does not wait for a start-up.
  const wanted = Math.max(waiting - starting, idle + starting === 0 ? 1 : 0);
  return Math.max(0, Math.min(wanted, poolSize - workers));
}
