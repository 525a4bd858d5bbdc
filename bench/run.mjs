#!/usr/bin/env node
// WasmForge's benchmarks: every figure side by side with the bare SDK server (bench/baseline-server.mjs),
// measured in the same run and reported as a ratio, because shared machines are noisy.
//
//   npm run bench                          all scenarios (about 2–3 minutes)
//   npm run bench -- --quick               fewer runs and calls (under a minute)
//   npm run bench -- --only cold,calls     some scenarios: cold, calls, memory, reload
//   npm run bench -- --transports stdio    call figures over some transports only: stdio, tcp, http
//   npm run bench -- --config my.toml      another WasmForge config (it must serve add, validate_url
//                                          and count_vowels), e.g. to compare settings
//
// Prints markdown tables on stdout, progress on stderr, and writes bench/results/bench-<time>.json,
// bench/results/latest.json and bench/results/latest.svg. Runs the built CLI: `npm run build` first.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { evaluate, markdown, svgChart } from "./lib/report.mjs";
import { CLI, DEFAULT_CONFIG, ROOT, serveFeatures } from "./lib/servers.mjs";
import { calls } from "./scenarios/calls.mjs";
import { coldStart } from "./scenarios/cold-start.mjs";
import { memory } from "./scenarios/memory.mjs";
import { reload } from "./scenarios/reload.mjs";

const SCENARIOS = [coldStart, calls, memory, reload];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    transports: { type: "string" },
    config: { type: "string", default: DEFAULT_CONFIG },
    out: { type: "string", default: join(ROOT, "bench", "results") },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(`usage: node bench/run.mjs [--quick] [--only ${SCENARIOS.map((s) => s.id).join(",")}] [--transports stdio,tcp,http] [--config FILE] [--out DIR]\n`);
  process.exit(0);
}
if (!existsSync(CLI)) {
  process.stderr.write(`bench: ${CLI} not found; run \`npm run build\` first\n`);
  process.exit(1);
}
const only = values.only?.split(",").map((s) => s.trim());
const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
if (unknown.length) {
  process.stderr.write(`bench: unknown scenario ${unknown.join(", ")}; choose from ${SCENARIOS.map((s) => s.id).join(", ")}\n`);
  process.exit(1);
}

// The SDK's HTTP client adds an abort listener per request and Node warns about it on every call past
// the limit: show each kind of warning once.
const warned = new Set();
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warned.has(warning.name)) return;
  warned.add(warning.name);
  process.stderr.write(`${warning.name}: ${warning.message} (shown once)\n`);
});

const started = Date.now();
const log = (message) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const features = serveFeatures();
const context = { quick: values.quick, log, features, config: resolve(values.config), transports: values.transports?.split(",").map((s) => s.trim()) };
const rows = [];
const about = {};
for (const scenario of SCENARIOS) {
  if (only && !only.includes(scenario.id)) continue;
  log(`${scenario.title}…`);
  about[scenario.title] = scenario.about?.(values.quick);
  rows.push(...(await scenario.run(context)).map(evaluate));
}

const cpu = cpus()[0]?.model ?? "unknown CPU";
const machine = `Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} × ${cpu}`;
const header =
  `WasmForge benchmark${values.quick ? " (--quick)" : ""}: ${new Date().toISOString()}, ${machine}.\n\n` +
  "Baseline: bench/baseline-server.mjs, a bare @modelcontextprotocol/sdk server with the same tools written in JavaScript, " +
  "over the same transport and measured in the same run. Ratio = WasmForge / baseline.";
process.stdout.write(`${header}\n\n${markdown(rows, about)}`);

mkdirSync(values.out, { recursive: true });
const result = { date: new Date().toISOString(), command: process.argv.slice(2).join(" "), config: context.config, machine, node: process.version, cores: cpus().length, quick: values.quick, features, seconds: (Date.now() - started) / 1000, rows };
const stamp = result.date.replace(/[:.]/g, "-");
writeFileSync(join(values.out, `bench-${stamp}.json`), JSON.stringify(result, null, 2) + "\n");
writeFileSync(join(values.out, "latest.json"), JSON.stringify(result, null, 2) + "\n");
writeFileSync(join(values.out, "latest.svg"), svgChart(rows, `WasmForge / bare SDK server (${machine})`));
log(`done in ${result.seconds.toFixed(0)} s; results in ${values.out}`);
