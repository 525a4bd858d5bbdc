#!/usr/bin/env node
// WasmForge's benchmarks: every figure side by side with a bare v2 SDK server (bench/baseline-server.mjs)
// serving the same tools in JavaScript, measured in the same run, in the same protocol era with the same
// client, and reported as a ratio, because shared machines are noisy. The bare v1 SDK server
// (bench/baseline-server-v1.mjs, 2025 only) is measured beside it as a reference.
//
//   npm run bench                          all scenarios (about 5 minutes)
//   npm run bench -- --quick               fewer runs, shorter batches (1–2 minutes)
//   npm run bench -- --only cold,calls     some scenarios: cold, calls, memory, reload, stall
//   npm run bench -- --transports stdio    call figures over some transports only: stdio, tcp, http
//   npm run bench -- --eras 2026           some protocol eras only: 2025 (v1 SDK Client), 2026 (v2 SDK
//                                          Client pinned to 2026-07-28)
//   npm run bench -- --config my.toml      another WasmForge config (it must serve add, validate_url
//                                          and count_vowels), e.g. to compare settings
//
// Prints markdown tables on stdout, progress on stderr, and writes bench/results/bench-<time>.json,
// bench/results/latest.json and bench/results/latest.svg. Runs the built CLI: `npm run build` first.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseEras } from "./lib/clients.mjs";
import { evaluate, markdown, svgChart } from "./lib/report.mjs";
import { CLI, DEFAULT_CONFIG, ROOT, serveFeatures } from "./lib/servers.mjs";
import { calls } from "./scenarios/calls.mjs";
import { coldStart } from "./scenarios/cold-start.mjs";
import { memory } from "./scenarios/memory.mjs";
import { reload } from "./scenarios/reload.mjs";
import { stall } from "./scenarios/stall.mjs";

const SCENARIOS = [coldStart, calls, memory, reload, stall];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    transports: { type: "string" },
    eras: { type: "string" },
    config: { type: "string", default: DEFAULT_CONFIG },
    out: { type: "string", default: join(ROOT, "bench", "results") },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(`usage: node bench/run.mjs [--quick] [--only ${SCENARIOS.map((s) => s.id).join(",")}] [--transports stdio,tcp,http] [--eras 2025,2026] [--config FILE] [--out DIR]\n`);
  process.exit(0);
}
if (!existsSync(CLI)) {
  process.stderr.write(`bench: ${CLI} not found; run \`npm run build\` first\n`);
  process.exit(1);
}
const only = values.only?.split(",").map((s) => s.trim());
let eras;
try {
  eras = parseEras(values.eras);
} catch (err) {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
}
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
const context = { quick: values.quick, log, features, eras, config: resolve(values.config), transports: values.transports?.split(",").map((s) => s.trim()) };
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
  "Bare v2: bench/baseline-server.mjs, a bare @modelcontextprotocol/server (v2 SDK) server with the same tools written in " +
  "JavaScript, serving both eras as WasmForge does, over the same transport, with the same client and measured in the same run. " +
  "Ratio = WasmForge / bare v2. Bare v1: bench/baseline-server-v1.mjs, the same on @modelcontextprotocol/sdk 1.x (2025 only), " +
  `for reference. Eras: ${eras.join(", ")}.`;
process.stdout.write(`${header}\n\n${markdown(rows, about)}`);

mkdirSync(values.out, { recursive: true });
const result = { date: new Date().toISOString(), command: process.argv.slice(2).join(" "), config: context.config, machine, node: process.version, cores: cpus().length, quick: values.quick, eras, features, seconds: (Date.now() - started) / 1000, rows };
const stamp = result.date.replace(/[:.]/g, "-");
writeFileSync(join(values.out, `bench-${stamp}.json`), JSON.stringify(result, null, 2) + "\n");
writeFileSync(join(values.out, "latest.json"), JSON.stringify(result, null, 2) + "\n");
writeFileSync(join(values.out, "latest.svg"), svgChart(rows, `WasmForge / bare v2 SDK server (${machine})`));
log(`done in ${result.seconds.toFixed(0)} s; results in ${values.out}`);
