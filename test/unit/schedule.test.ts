// The placement rules (src/runtime/schedule.ts), apart from the threads that carry them out.

import { describe, expect, it } from "vitest";
import { pickNext, place, preempted, QUICK_CALL_MS, record, SLICE_MS, workersToStart, type ToolHistory } from "../../src/runtime/schedule.js";

describe("where a call runs", () => {
  it("a module that is not metered, or a call that needs a worker, always goes to the pool", () => {
    expect(place({ eligible: false, keep: false, history: {} })).toBe("worker");
    expect(place({ eligible: false, keep: false, history: { averageMs: 0 } })).toBe("worker");
  });

  it("a metered tool is tried on the protocol thread first, and stays there while its calls are quick", () => {
    let history: ToolHistory = {};
    expect(place({ eligible: true, keep: false, history })).toBe("thread");
    for (let i = 0; i < 50; i++) history = record(history, QUICK_CALL_MS / 4);
    expect(place({ eligible: true, keep: false, history })).toBe("thread");
  });

  it("a preempted call sends its tool to the pool at once, and quick runs there bring it back", () => {
    let history = preempted({ averageMs: 0.01 });
    expect(history.averageMs).toBeGreaterThanOrEqual(SLICE_MS);
    expect(place({ eligible: true, keep: false, history })).toBe("worker");
    let runs = 0;
    while (place({ eligible: true, keep: false, history }) === "worker") {
      history = record(history, QUICK_CALL_MS / 10);
      runs++;
      expect(runs).toBeLessThan(100);
    }
    // A moving average: one quick run is not enough to forget a slow one.
    expect(runs).toBeGreaterThan(1);
  });

  it("slow calls keep a tool in the pool", () => {
    let history: ToolHistory = {};
    for (let i = 0; i < 10; i++) history = record(history, 20);
    expect(place({ eligible: true, keep: false, history })).toBe("worker");
  });
});

describe("a module that keeps its state", () => {
  it("moves at most once: on the protocol thread however slow, until a call is preempted; then in workers for good", () => {
    let history: ToolHistory = {};
    expect(place({ eligible: true, keep: true, history })).toBe("thread");
    for (let i = 0; i < 10; i++) history = record(history, 3);
    expect(place({ eligible: true, keep: true, history })).toBe("thread");
    history = preempted(history);
    for (let i = 0; i < 50; i++) history = record(history, 0.01);
    expect(place({ eligible: true, keep: true, history })).toBe("worker");
    // A fresh module with the same history would have come back.
    expect(place({ eligible: true, keep: false, history })).toBe("thread");
  });
});

describe("which queued call a free worker takes", () => {
  it("the oldest, when nothing else limits it", () => {
    expect(pickNext(["a", "b", "a"], new Map(), 4)).toBe(0);
  });

  it("a module may not take every worker while another module's calls wait", () => {
    // 4 workers, 3 of them busy with module a: the last one goes to b, though a queued first.
    expect(pickNext(["a", "a", "b"], new Map([["a", 3]]), 4)).toBe(2);
    // Only a's calls wait: the last worker stays free for the next call to another module.
    expect(pickNext(["a", "a"], new Map([["a", 3]]), 4)).toBe(-1);
  });

  it("with one worker, that worker still serves", () => {
    expect(pickNext(["a"], new Map(), 1)).toBe(0);
    expect(pickNext(["a"], new Map([["a", 1]]), 1)).toBe(-1);
  });
});

describe("how many workers to start", () => {
  it("one per waiting call beyond those already starting, up to the pool size", () => {
    expect(workersToStart({ workers: 0, starting: 0, idle: 0, waiting: 3, poolSize: 4 })).toBe(3);
    expect(workersToStart({ workers: 2, starting: 2, idle: 0, waiting: 3, poolSize: 4 })).toBe(1);
    expect(workersToStart({ workers: 4, starting: 0, idle: 0, waiting: 9, poolSize: 4 })).toBe(0);
  });

  it("a spare when every worker is busy and none is starting, so the next slow call does not wait for a start", () => {
    expect(workersToStart({ workers: 2, starting: 0, idle: 0, waiting: 0, poolSize: 4 })).toBe(1);
    expect(workersToStart({ workers: 2, starting: 0, idle: 1, waiting: 0, poolSize: 4 })).toBe(0);
    expect(workersToStart({ workers: 2, starting: 1, idle: 0, waiting: 0, poolSize: 4 })).toBe(0);
  });
});
