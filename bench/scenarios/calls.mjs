// Call throughput and latency: the same tool calls against WasmForge and the bare SDK server, sequential
// and with 16 in flight, per transport. Batches alternate between the two servers, round after round,
// so both see the same machine.

import { runCalls } from "../lib/load.mjs";
import { latencySummary, median } from "../lib/stats.mjs";
import { transports } from "../lib/transports.mjs";

const TITLE = "Tool calls";
const IN_FLIGHT = 16;

/** What each figure calls: WasmForge's wasm tool and the baseline's JavaScript tool of the same name. */
const TOOLS = [
  { label: "raw i32 (add)", target: 0.9, calls: [{ name: "add", arguments: { a: 2, b: 3 } }, { name: "add", arguments: { a: -7, b: 1000 } }] },
  {
    label: "string ptr/len (validate_url)",
    target: 0.9,
    calls: [{ name: "validate_url", arguments: { data: "https://example.com/a/path?q=1" } }, { name: "validate_url", arguments: { data: "not a url" } }],
  },
  {
    label: "Extism plugin (count_vowels)",
    target: 0.75,
    calls: [{ name: "count_vowels", arguments: { text: "The quick brown fox jumps over the lazy dog" } }],
  },
];

const MODES = [
  { label: "sequential", inFlight: 1, perRound: (quick) => (quick ? 300 : 1000) },
  { label: `${IN_FLIGHT} in flight`, inFlight: IN_FLIGHT, perRound: (quick) => (quick ? 1000 : 3000) },
];

async function measure(server, tool, mode, count) {
  const run = await runCalls(server.client, tool.calls, { count, inFlight: mode.inFlight });
  if (run.failures) throw new Error(`${server.label} ${tool.label}: ${run.failures} failed calls, first: ${run.firstError}`);
  return run;
}

const ms = (v) => (v < 10 ? v.toFixed(2) : v.toFixed(1));

/** Runs every tool × mode on one transport; returns one row per pair. */
async function onTransport(transport, { quick, log }, rounds) {
  const perRound = (mode) => Math.round(mode.perRound(quick) * (transport.scale ?? 1));
  const servers = [];
  try {
    servers.push(await transport.baseline(), await transport.wasmforge());
    // Warm-up: JIT, worker threads, module instances.
    for (const server of servers) for (const tool of TOOLS) await measure(server, tool, MODES[1], perRound(MODES[1]));
    const totals = new Map();
    for (let round = 0; round < rounds; round++) {
      for (const tool of TOOLS) {
        for (const mode of MODES) {
          const order = round % 2 === 0 ? servers : [...servers].reverse();
          for (const server of order) {
            const key = `${tool.label}|${mode.label}|${server.label}`;
            const run = await measure(server, tool, mode, perRound(mode));
            const total = totals.get(key) ?? { latencies: [], rates: [] };
            total.latencies.push(...run.latencies);
            total.rates.push((run.latencies.length / run.elapsedMs) * 1000);
            totals.set(key, total);
          }
        }
      }
      log(`calls over ${transport.name}: round ${round + 1}/${rounds}`);
    }
    return TOOLS.flatMap((tool) =>
      MODES.map((mode) => {
        const wf = totals.get(`${tool.label}|${mode.label}|wasmforge`);
        const base = totals.get(`${tool.label}|${mode.label}|baseline`);
        const latency = { wasmforge: latencySummary(wf.latencies), baseline: latencySummary(base.latencies) };
        return {
          scenario: TITLE,
          metric: `${tool.label}, ${mode.label}, ${transport.name}`,
          wasmforge: median(wf.rates),
          baseline: median(base.rates),
          // Each round measured both servers back to back: the median of those paired ratios shrugs
          // off a round that a noisy neighbour spoiled.
          ratio: median(wf.rates.map((rate, i) => rate / base.rates[i])),
          unit: "calls/s",
          better: "higher",
          target: tool.target,
          latency,
          note: `p50 ${ms(latency.wasmforge.p50)} vs ${ms(latency.baseline.p50)} ms; p99 ${ms(latency.wasmforge.p99)} vs ${ms(latency.baseline.p99)} ms`,
        };
      }),
    );
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

export const calls = {
  id: "calls",
  title: TITLE,
  about: (quick) =>
    `Throughput is the median over ${quick ? 8 : 10} rounds; each round runs a batch on each server back to back, ` +
    `and the ratio is the median of those paired ratios. Latency (WasmForge vs baseline) is over every call of every round.`,
  async run(context) {
    const rounds = context.quick ? 8 : 10;
    const { list, missing } = transports(context.features, context.config, context.transports);
    const rows = [];
    for (const transport of list) rows.push(...(await onTransport(transport, context, rounds)));
    for (const name of missing) {
      rows.push({ scenario: TITLE, metric: `all call figures over ${name}`, wasmforge: null, baseline: null, unit: "", better: "higher", note: `n/a: \`serve --${name}\` not built yet` });
    }
    return rows;
  },
};
