// Runs modules metered and unmetered for the meter tests, with a host that refills or stops.

import { FUEL_EXPORT, METER_FUNCTION, METER_NAMESPACE, meterModule, type FuelCounter } from "../../src/wasm/meter.js";

export type Imports = Record<string, Record<string, WebAssembly.ImportValue>>;

/** How the host answers out_of_fuel: a refill, or a stop. */
export type Refill = (fuel: () => number) => number;

export interface Metered {
  exports: WebAssembly.Exports;
  fuel: WebAssembly.Global;
  /** How many times the module asked the host for fuel. */
  refills: () => number;
}

export const AMPLE: Refill = () => 1_000_000;

export function instantiateMetered(
  bytes: Uint8Array,
  options: { imports?: Imports; refill?: Refill; counter?: FuelCounter; startFuel?: number; maxRefills?: number } = {},
): Metered {
  const metered = meterModule(bytes, { counter: options.counter });
  if (!WebAssembly.validate(metered.bytes)) new WebAssembly.Module(metered.bytes); // throws V8's reason
  let refills = 0;
  let fuel: WebAssembly.Global | undefined;
  const refill = options.refill ?? AMPLE;
  const host = {
    [METER_FUNCTION]: () => {
      // a rewrite that broke control flow would spin here forever: a test fails instead
      if (++refills > (options.maxRefills ?? 1_000_000)) throw new Runaway(`asked for fuel ${refills - 1} times`);
      return refill(() => Number(fuel?.value ?? 0));
    },
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(metered.bytes), {
    ...options.imports,
    [METER_NAMESPACE]: host,
  });
  fuel = instance.exports[FUEL_EXPORT] as WebAssembly.Global;
  fuel.value = options.startFuel ?? 1_000_000;
  return { exports: instance.exports, fuel, refills: () => refills };
}

export function instantiatePlain(bytes: Uint8Array, imports: Imports = {}): WebAssembly.Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports;
}

/** What a call did: its value (bigints as strings, multi-value as arrays) or its error's kind and message. */
export function outcome(call: () => unknown): string {
  try {
    return `ok ${JSON.stringify(call(), (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))}`;
  } catch (err) {
    return err instanceof Error ? `${err.constructor.name}: ${err.message}` : `throw ${String(err)}`;
  }
}

export class Stop extends Error {}

/** The metered module asked for far more fuel than the test allows. */
export class Runaway extends Error {}
