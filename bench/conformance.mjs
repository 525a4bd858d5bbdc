#!/usr/bin/env node
// Runs the official MCP conformance server scenarios (@modelcontextprotocol/conformance) against
// `wasmforge serve --http`, and reports which applicable scenarios pass. The suite needs Node 22 and an
// HTTP endpoint; npx fetches both (the `node@22` npm package) on first use.
//
//   node bench/conformance.mjs            (after `npm run build`; exits 1 if an applicable scenario fails)
//
// The scenarios call fixture tools by fixed names (test_simple_text, ...): the config below serves
// example modules under those names, plus bench/conformance/log-plugin.wat for the logging scenario.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, ROOT, spawnListening, tempDir, wasmforgeCommand } from "./lib/servers.mjs";

const CONFORMANCE = "@modelcontextprotocol/conformance@0.1.16";

/** Scenarios that test features WasmForge does not offer, and why. */
const NOT_APPLICABLE = {
  "completion-complete": "no prompts or resource templates, so nothing to complete",
  "tools-call-image": "module results are text (and structured JSON); no image content",
  "tools-call-audio": "module results are text (and structured JSON); no audio content",
  "tools-call-embedded-resource": "module results are text (and structured JSON); no embedded resources",
  "tools-call-mixed-content": "module results are text (and structured JSON); no image or resource parts",
  "tools-call-sampling": "modules have no way to ask the client for an LLM completion mid-call",
  "tools-call-elicitation": "modules have no way to ask the user for input mid-call",
  "elicitation-sep1034-defaults": "modules have no way to ask the user for input mid-call",
  "elicitation-sep1330-enums": "modules have no way to ask the user for input mid-call",
  "resources-list": "WasmForge serves tools only, no resources",
  "resources-read-text": "WasmForge serves tools only, no resources",
  "resources-read-binary": "WasmForge serves tools only, no resources",
  "resources-templates-read": "WasmForge serves tools only, no resources",
  "resources-subscribe": "WasmForge serves tools only, no resources",
  "resources-unsubscribe": "WasmForge serves tools only, no resources",
  "prompts-list": "WasmForge serves tools only, no prompts",
  "prompts-get-simple": "WasmForge serves tools only, no prompts",
  "prompts-get-with-args": "WasmForge serves tools only, no prompts",
  "prompts-get-embedded-resource": "WasmForge serves tools only, no prompts",
  "prompts-get-with-image": "WasmForge serves tools only, no prompts",
};

const SCHEMA_2020_12 =
  '{ "$schema" = "https://json-schema.org/draft/2020-12/schema", type = "object", ' +
  '"$defs" = { address = { type = "object", properties = { street = { type = "string" }, city = { type = "string" } } } }, ' +
  'properties = { name = { type = "string" }, address = { "$ref" = "#/$defs/address" } }, additionalProperties = false }';

async function compileFixture(dir) {
  const wabt = await (await import("wabt")).default();
  const source = readFileSync(join(ROOT, "bench", "conformance", "log-plugin.wat"), "utf8");
  const file = join(dir, "log-plugin.wasm");
  writeFileSync(file, wabt.parseWat("log-plugin.wat", source).toBinary({}).buffer);
  return file;
}

function writeFixtureConfig(dir, logPlugin) {
  const module = (name, path, tools) =>
    `[[modules]]\nname = "${name}"\npath = ${JSON.stringify(path)}\n` +
    tools.map(([fn, as, extra = ""]) => `[[modules.tools]]\nfunction_name = "${fn}"\nname = "${as}"\n${extra}`).join("");
  const hide = (fns) => fns.map((fn) => [fn, `hidden_${fn}`, "hidden = true\n"]);
  const config = [
    module("text", join(ROOT, "test-modules", "text.wasm"), [
      ["greeting", "test_simple_text", 'pattern = "no_params_to_string"\n'],
      ...hide(["count_words", "describe_url"]),
    ]),
    module("fail-plugin", join(ROOT, "test-modules", "fail-plugin.wasm"), [["always_fail", "test_error_handling"], ...hide(["crash", "ok"])]),
    module("log-plugin", logPlugin, [["log_thrice", "test_tool_with_logging"]]),
    // SEP-1613: a JSON Schema 2020-12 input_schema from the config reaches tools/list untouched.
    module("text-plugin", join(ROOT, "test-modules", "text-plugin.wasm"), [
      ["greet", "json_schema_2020_12_tool", `input_schema = ${SCHEMA_2020_12}\n`],
      ...hide(["count_vowels", "roll_dice"]),
    ]),
    module("progress", join(ROOT, "test-modules", "example.wasm"), [
      ["answer", "test_tool_with_progress"],
      ...hide(["add", "scale", "fib", "validate_url", "process_response"]),
    ]),
  ].join("\n");
  const file = join(dir, "wasmforge.toml");
  writeFileSync(file, config);
  return file;
}

/** Scenario → passed?, from the per-scenario checks.json files the suite writes. */
function readResults(outDir) {
  const results = new Map();
  for (const entry of readdirSync(outDir)) {
    const match = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(entry);
    const checks = join(outDir, entry, "checks.json");
    if (!match || !existsSync(checks)) continue;
    const list = JSON.parse(readFileSync(checks, "utf8"));
    const failed = list.filter((c) => c.status === "FAILURE");
    results.set(match[1], { passed: failed.length === 0, checks: list.length, error: failed[0]?.errorMessage });
  }
  return results;
}

if (!existsSync(CLI)) {
  process.stderr.write(`conformance: ${CLI} not found; run \`npm run build\` first\n`);
  process.exit(1);
}
const dir = tempDir("wasmforge-conformance-");
const config = writeFixtureConfig(dir, await compileFixture(dir));
const server = await spawnListening(wasmforgeCommand(config, ["--http", "127.0.0.1:0", "--log-level", "info"]), "http");
const outDir = join(dir, "results");
let run;
try {
  process.stderr.write(`conformance: ${CONFORMANCE} against ${server.url} (npx fetches Node 22 on first use)\n`);
  run = spawnSync("npx", ["--yes", "-p", "node@22", "-p", CONFORMANCE, "conformance", "server", "--url", server.url, "--suite", "all", "-o", outDir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 600_000,
  });
} finally {
  await server.stop();
}
if (!existsSync(outDir)) {
  process.stderr.write(`conformance: the suite did not run (exit ${run?.status}):\n${run?.stdout ?? ""}\n`);
  process.exit(1);
}

const results = readResults(outDir);
const rows = [...results].sort(([a], [b]) => a.localeCompare(b));
const applicable = rows.filter(([name]) => !NOT_APPLICABLE[name]);
const failing = applicable.filter(([, r]) => !r.passed);
const lines = ["| Scenario | Result | Note |", "|---|---|---|"];
for (const [name, r] of rows) {
  const na = NOT_APPLICABLE[name];
  lines.push(`| ${name} | ${na ? "n/a" : r.passed ? "✅ pass" : "❌ fail"} | ${na ?? (r.passed ? "" : (r.error ?? "").replace(/\|/g, "\\|").slice(0, 160))} |`);
}
const summary = `MCP conformance (${CONFORMANCE}, all server scenarios, over Streamable HTTP): ${applicable.length - failing.length}/${applicable.length} applicable scenarios pass; ${rows.length - applicable.length} not applicable.`;
process.stdout.write(`${summary}\n\n${lines.join("\n")}\n`);
const resultsDir = join(ROOT, "bench", "results");
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, "conformance.json"), JSON.stringify({ date: new Date().toISOString(), suite: CONFORMANCE, summary, scenarios: Object.fromEntries(results) }, null, 2) + "\n");
process.exit(failing.length ? 1 : 0);
