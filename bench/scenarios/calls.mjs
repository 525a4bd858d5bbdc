// Call throughput, latency and server CPU: the same tool calls against WasmForge and the bare v2 SDK
// server, sequential and with 16 in flight, per transport and per protocol era, each era with its own
// client (bench/lib/clients.mjs); the bare v1 SDK server is measured beside the 2025 era as a
// reference. Batches alternate between the servers, round after round, so all see the same machine.

import { runCalls } from "../lib/load.mjs";
import { cpuMicros } from "../lib/proc.mjs";
import { subjects } from "../lib/servers.mjs";
import { latencySummary, median } from "../lib/stats.mjs";
import { transports } from "../lib/transports.mjs";

const TITLE = "Tool calls";
const IN_FLIGHT = 16;

/** What each figure calls: WasmForge's wasm tool and the bare servers' JavaScript tool of the same name. */
const TOOLS = [
  { label: "add (raw i32)", target: 0.9, calls: [{ name: "add", arguments: { a: 2, b: 3 } }, { name: "add", arguments: { a: -7, b: 1000 } }] },
  {
    label: "validate_url (ptr/len string)",
    target: 0.9,
    calls: [{ name: "validate_url", arguments: { data: "https://example.com/a/path?q=1" } }, { name: "validate_url", arguments: { data: "not a url" } }],
  },
  {
    label: "count_vowels (Extism)",
    target: 0.75,
    calls: [{ name: "count_vowels", arguments: { text: "The quick brown fox jumps over the lazy dog" } }],
  },
];

const MODES = [
  { label: "sequential", inFlight: 1 },
  { label: `${IN_FLIGHT} in flight`, inFlight: IN_FLIGHT },
];

/** Rounds, and how long each batch runs (ms): time-bounded, so a slow transport or a busy machine stretches no run. */
const rounds = (quick) => (quick ? 3 : 8);
const batchMs = (quick) => (quick ? 100 : 300);

/** One batch: its calls, wall time and the server's CPU time over it (µs, every thread of the process). */
async function measure(session, tool, mode, durationMs) {
  const cpuBefore = cpuMicros(session.pid);
  const run = await runCalls(session.client, tool.calls, { durationMs, inFlight: mode.inFlight });
  const cpuAfter = cpuMicros(session.pid);
  if (run.failures) throw new Error(`${session.label} (${session.era}) ${tool.label}: ${run.failures} failed calls, first: ${run.firstError}`);
  return { ...run, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

/** Runs every tool × mode × era on one transport; returns one row per tool × mode × era. */
async function onTransport(transport, { quick, log, config, eras }) {
  // The v1 reference speaks 2025 only; it is measured when that era is.
  const measured = subjects(config).filter((s) => s.eras.some((era) => eras.includes(era)));
  const served = [];
  const sessions = [];
  try {
    // Started side by side: on a busy machine, spawning one after another takes longer than the batches.
    await Promise.all(
      measured.map(async (subject) => {
        const server = await transport.serve(subject);
        served.push(server);
        for (const era of eras.filter((e) => subject.eras.includes(e))) sessions.push({ key: subject.key, era, ...(await server.connect(era)) });
      }),
    );
    sessions.sort((a, b) => measured.findIndex((s) => s.key === a.key) - measured.findIndex((s) => s.key === b.key));
    // Warm-up: JIT, worker threads, module instances.
    for (const session of sessions) for (const tool of TOOLS) await measure(session, tool, MODES[1], quick ? batchMs(quick) : 2 * batchMs(quick));
    const totals = new Map();
    const total = (key) => totals.get(key) ?? totals.set(key, { latencies: [], rates: [], cpu: 0, calls: 0, cpuKnown: true }).get(key);
    for (let round = 0; round < rounds(quick); round++) {
      for (const tool of TOOLS) {
        for (const mode of MODES) {
          for (const era of eras) {
            const ofEra = sessions.filter((s) => s.era === era);
            for (const session of round % 2 === 0 ? ofEra : ofEra.reverse()) {
              const run = await measure(session, tool, mode, batchMs(quick));
              const t = total(`${tool.label}|${mode.label}|${era}|${session.key}`);
              t.latencies.push(...run.latencies);
              t.rates.push((run.latencies.length / run.elapsedMs) * 1000);
              t.calls += run.latencies.length;
              if (run.cpu === undefined) t.cpuKnown = false;
              else t.cpu += run.cpu;
            }
          }
        }
      }
      log(`calls over ${transport.name}: round ${round + 1}/${rounds(quick)}`);
    }
    const cpuPerCall = (t) => (t?.cpuKnown ? t.cpu / t.calls : undefined);
    return TOOLS.flatMap((tool) =>
      MODES.flatMap((mode) =>
        eras.map((era) => {
          const key = (k, e = era) => totals.get(`${tool.label}|${mode.label}|${e}|${k}`);
          const wf = key("wasmforge");
          const base = key("baseline");
          const v1 = key("v1", "2025");
          const latency = { wasmforge: latencySummary(wf.latencies), baseline: latencySummary(base.latencies), ...(v1 && { v1: latencySummary(v1.latencies) }) };
          const cpu = { wasmforge: cpuPerCall(wf), baseline: cpuPerCall(base) };
          return {
            scenario: TITLE,
            metric: `${tool.label}, ${mode.label}, ${transport.name}, ${era}`,
            tool: tool.calls[0].name,
            mode: mode.label,
            transport: transport.name,
            era,
            wasmforge: median(wf.rates),
            baseline: median(base.rates),
            // Each round measured the servers back to back: the median of those paired ratios shrugs
            // off a round that a noisy neighbour spoiled.
            ratio: median(wf.rates.map((rate, i) => rate / base.rates[i])),
            unit: "calls/s",
            better: "higher",
            target: tool.target,
            cpu: { ...cpu, ratio: cpu.wasmforge !== undefined && cpu.baseline ? cpu.wasmforge / cpu.baseline : undefined },
            ...(v1 && { reference: { value: median(v1.rates), cpu: cpuPerCall(v1) } }),
            ...(mode.inFlight === 1 && { p50: { wasmforge: latency.wasmforge.p50, baseline: latency.baseline.p50 } }),
            latency,
          };
        }),
      ),
    );
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await Promise.all(served.map((s) => s.stop()));
  }
}

export const calls = {
  id: "calls",
  title: TITLE,
  about: (quick) =>
    `Throughput is the median over ${rounds(quick)} rounds; each round runs a ${batchMs(quick)} ms batch of calls on each ` +
    "server back to back, and the ratio is the median of those paired ratios. Era 2025: the v1 SDK Client; 2026: the v2 SDK Client pinned to " +
    "2026-07-28; WasmForge and the bare v2 server get the same client. CPU/call: the server process's utime + stime " +
    "(/proc/PID/stat, worker threads included) summed over every batch, divided by the calls; lower is better, and its " +
    "ratio is WasmForge ÷ bare v2. Bare v1: the v1 SDK server with the 2025 client, the same figure on both eras' rows. " +
    "p50: latency of sequential calls, WasmForge / bare v2.",
  async run(context) {
    const { list, missing } = transports(context.features, context.transports);
    const rows = [];
    for (const transport of list) rows.push(...(await onTransport(transport, context)));
    for (const name of missing) {
      rows.push({ scenario: TITLE, metric: `all call figures over ${name}`, wasmforge: null, baseline: null, unit: "", better: "higher", note: `n/a: \`serve --${name}\` not built yet` });
    }
    return rows;
  },
};
