// The host side of fuel metering (src/wasm/meter.ts): the function a metered module calls when its
// fuel runs out. It lets the call go on (a refill) until the call's deadline, or, on the protocol
// thread, until the call's time slice ends; then it answers -1, which traps the wasm right where it
// is, and records why, so the caller can tell a stop from a trap of the module's own.

import { METER_FUNCTION, METER_NAMESPACE } from "../wasm/meter.js";

/** Fuel given per refill: roughly instructions, so a check of the clock every 50–100 µs or so. */
export const REFILL = 200_000;

export type StopReason = "deadline" | "slice";

export interface Meter {
  /** The import object entry a metered module needs. */
  imports: { [METER_NAMESPACE]: { [METER_FUNCTION]: () => number } };
  /** A call starts: it may run until `deadline`, and yield at `sliceEnd` (performance.now() times). */
  begin(deadline: number, sliceEnd?: number): void;
  /** Why the running call was stopped, if it was; cleared by begin(). */
  readonly stopped: StopReason | undefined;
}

export function createMeter(): Meter {
  let deadline = Infinity;
  let sliceEnd = Infinity;
  let stopped: StopReason | undefined;
  const outOfFuel = (): number => {
    const now = performance.now();
    if (now >= deadline) {
      stopped = "deadline";
      return -1;
    }
    if (now >= sliceEnd) {
      stopped = "slice";
      return -1;
    }
    return REFILL;
  };
  return {
    imports: { [METER_NAMESPACE]: { [METER_FUNCTION]: outOfFuel } },
    begin(callDeadline, callSliceEnd = Infinity) {
      deadline = callDeadline;
      sliceEnd = callSliceEnd;
      stopped = undefined;
    },
    get stopped() {
      return stopped;
    },
  };
}
