#!/usr/bin/env node
// What fuel metering (src/wasm/meter.ts) costs WasmForge's users:
//   1. rewriting: how fast meterModule() turns a module into a metered one, for every committed
//      module and for a large synthetic one (real compiler output, copied to a few MB);
//   2. running: compute-heavy functions (modules/compute.wat) metered against unmetered, with
//      the host's refill at a typical size and its deadline check in out_of_fuel, so the host's
//      own cost counts.
//
//   npm run build && node bench/meter.mjs [--quick] [--refill N] [--synthetic-mb N]
//
// Prints markdown tables on stdout. Timings are the best of several interleaved rounds of CPU time,
// since shared machines are noisy; ratios compare runs made in the same rounds.

import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { walkCode } from "../dist/wasm/instructions.js";
import { FUEL_EXPORT, METER_FUNCTION, METER_NAMESPACE, meterModule } from "../dist/wasm/meter.js";
import { binaryKind, Reader, sections } from "../dist/wasm/reader.js";
import { encodeU32, replaceSection } from "../dist/wasm/rewrite.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODULES = join(ROOT, "test-modules");
const TARGET = 0.8;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    refill: { type: "string", default: "100000" },
    "synthetic-mb": { type: "string", default: "4" },
  },
});
const ROUNDS = values.quick ? 3 : 7;
const REFILL = Number(values.refill);
const SYNTHETIC_MB = Number(values["synthetic-mb"]);

function cpuMs(run) {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Milliseconds per call: repeats `run` for at least `minMs`, best of ROUNDS. */
function perCall(run, minMs = 100) {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    let calls = 0;
    const ms = cpuMs(() => {
      const until = performance.now() + minMs;
      do {
        run();
        calls++;
      } while (performance.now() < until);
    });
    best = Math.min(best, ms / calls);
  }
  return best;
}

function listModules(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listModules(path));
    else if (entry.name.endsWith(".wasm")) out.push(path);
  }
  return out.sort();
}

/**
 * A module of about `mb` megabytes of code: the template's function bodies repeated. The copies
 * call, and are called through, the original functions, so the module still validates.
 */
function synthetic(template, mb) {
  const all = sections(template);
  const funcs = all.find((s) => s.id === 3);
  const code = all.find((s) => s.id === 10);
  const fr = new Reader(template, funcs.start, funcs.end);
  const count = fr.u32();
  const types = template.subarray(fr.pos, funcs.end);
  const cr = new Reader(template, code.start, code.end);
  cr.u32();
  const bodies = template.subarray(cr.pos, code.end);
  const copies = Math.max(1, Math.ceil((mb * 1e6) / bodies.length));
  const repeat = (count, part) => {
    const head = encodeU32(count * copies);
    const out = new Uint8Array(head.length + part.length * copies);
    out.set(head);
    for (let i = 0; i < copies; i++) out.set(part, head.length + i * part.length);
    return out;
  };
  // the code section comes after the function section: replace it first, the offsets stay valid
  const withCode = replaceSection(template, code, repeat(count, bodies));
  return replaceSection(withCode, funcs, repeat(count, types));
}

function rewriteRows() {
  const rows = [];
  const files = listModules(MODULES);
  // Core modules only: a component's core modules are not metered yet.
  const entries = files
    .map((file) => ({ name: relative(MODULES, file), bytes: new Uint8Array(readFileSync(file)) }))
    .filter((e) => binaryKind(e.bytes) === "module");
  const template = entries.find((e) => e.name === "mcp-plugin.wasm");
  const big = synthetic(template.bytes, SYNTHETIC_MB);
  if (!WebAssembly.validate(big)) throw new Error("the synthetic module does not validate");
  entries.push({ name: `synthetic (mcp-plugin.wasm code × ${Math.round(big.length / template.bytes.length)})`, bytes: big });
  for (const { name, bytes } of entries) {
    const metered = meterModule(bytes);
    if (!WebAssembly.validate(metered.bytes)) throw new Error(`${name}: metered module does not validate`);
    const minMs = bytes.length > 1e6 ? 400 : 100;
    const meterMs = perCall(() => meterModule(bytes), minMs);
    const walkMs = perCall(() => walkCode(bytes), minMs);
    rows.push({
      name,
      size: bytes.length,
      meterMs,
      meterMBs: bytes.length / 1e6 / (meterMs / 1000),
      walkMBs: bytes.length / 1e6 / (walkMs / 1000),
      growth: metered.bytes.length / bytes.length - 1,
      checks: metered.checks,
    });
  }
  return rows;
}

function computeRows() {
  const bytes = new Uint8Array(readFileSync(join(MODULES, "compute.wasm")));
  const host = { asked: 0, deadline: Infinity };
  const imports = {
    [METER_NAMESPACE]: {
      // what a host does: check the call's deadline, then refill
      [METER_FUNCTION]: () => {
        host.asked++;
        return performance.now() > host.deadline ? -1 : REFILL;
      },
    },
  };
  const variants = {
    plain: new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports,
    local: new WebAssembly.Instance(new WebAssembly.Module(meterModule(bytes, { counter: "local" }).bytes), imports).exports,
    global: new WebAssembly.Instance(new WebAssembly.Module(meterModule(bytes, { counter: "global" }).bytes), imports).exports,
  };
  const N = (values.quick ? 4 : 8) * 1024 * 1024;
  const jobs = {
    [`fnv1a over ${N >> 20} MiB`]: (e) => e.fnv1a(0, N),
    [`sieve below ${N >> 20}Mi`]: (e) => e.sieve(N),
    "mix, 10M rounds": (e) => e.mix(10_000_000),
    "fib(27), recursive": (e) => e.fib(27),
  };
  const best = {};
  const results = {};
  const asked = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [job, run] of Object.entries(jobs)) {
      for (const [variant, e] of Object.entries(variants)) {
        e.fill(0x9e3779b9, N);
        const fuel = e[FUEL_EXPORT];
        if (fuel) fuel.value = REFILL;
        host.deadline = performance.now() + 60_000;
        const askedBefore = host.asked;
        let result;
        const ms = cpuMs(() => (result = run(e)));
        const key = `${job}|${variant}`;
        best[key] = Math.min(best[key] ?? Infinity, ms);
        if (variant !== "plain") asked[job] = host.asked - askedBefore;
        results[key] = result;
      }
      if (results[`${job}|local`] !== results[`${job}|plain`] || results[`${job}|global`] !== results[`${job}|plain`]) {
        throw new Error(`${job}: metered result differs`);
      }
    }
  }
  return Object.keys(jobs).map((job) => ({
    job,
    plain: best[`${job}|plain`],
    local: best[`${job}|local`],
    global: best[`${job}|global`],
    asked: asked[job],
  }));
}

const ms = (v) => (v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1));
const kb = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KiB`);

const rewrite = rewriteRows();
const compute = computeRows();

const out = [];
out.push(`Fuel metering benchmark${values.quick ? " (--quick)" : ""}: Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, best of ${ROUNDS} rounds.`, "");
out.push("### Rewriting (meterModule, local counter)", "");
out.push("| Module | Size | Rewrite | Rewrite MB/s | Decode-only MB/s | Growth | Checks |", "|---|---:|---:|---:|---:|---:|---:|");
for (const r of rewrite) {
  out.push(`| ${r.name} | ${kb(r.size)} | ${ms(r.meterMs)} ms | ${r.meterMBs.toFixed(0)} | ${r.walkMBs.toFixed(0)} | +${(r.growth * 100).toFixed(0)}% | ${r.checks} |`);
}
out.push("", `### Running metered (refill ${REFILL.toLocaleString("en-US")}, deadline checked per refill; target ≥ ${TARGET}× unmetered speed)`, "");
out.push("| Function | Unmetered | Metered, local counter | Speed | Metered, global counter | Speed | Host calls |", "|---|---:|---:|---:|---:|---:|---:|");
for (const r of compute) {
  const speed = (v) => {
    const ratio = r.plain / v;
    return `${ratio.toFixed(2)}× ${ratio >= TARGET ? "✅" : "❌"}`;
  };
  out.push(`| ${r.job} | ${ms(r.plain)} ms | ${ms(r.local)} ms | ${speed(r.local)} | ${ms(r.global)} ms | ${speed(r.global)} | ${r.asked} |`);
}
process.stdout.write(`${out.join("\n")}\n`);
