#!/usr/bin/env node
// Runs every server scenario of the official MCP conformance suite (@modelcontextprotocol/conformance,
// pinned below) against `wasmforge serve --http`, for both protocol revisions WasmForge serves, and
// reports each scenario's result per revision, and the scenarios that do not apply, with why.
//
//   node bench/conformance.mjs            (after `npm run build`; exits 1 if an applicable scenario fails)
//
// The suite needs Node 22 and talks to an HTTP endpoint. npx fetches both on first use from the npm
// registry (the `node@22` package provides the node binary the suite's bin runs under) and caches them.
//
// The scenarios call fixtures by fixed names (test_simple_text, test://static-text, test_simple_prompt,
// ...): the config below serves example modules under those names, config [[resources]],
// [[resource_templates]] and [[prompts]] with the content the scenarios expect, and small plugins from
// bench/conformance/ (each file's header says which scenarios it serves): WAT ones compiled with `wabt`,
// AssemblyScript ones with `assemblyscript`, both dev dependencies.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildAsc } from "../scripts/build-modules.mjs";
import { CLI, ROOT, spawnListening, tempDir, wasmforgeCommand } from "./lib/servers.mjs";

const CONFORMANCE = "@modelcontextprotocol/conformance@0.2.0-alpha.12";
const NODE = "node@22";
const REVISIONS = ["2025-11-25", "2026-07-28"];

/** Scenarios for features WasmForge does not offer, and why. */
const NOT_APPLICABLE = {
  "completion-complete": "no argument completion: WasmForge does not serve completion/complete (nor a plugin's `complete` export)",
  "resources-subscribe": "no resource subscriptions: resources are read when requested, never watched for a client",
  "resources-unsubscribe": "no resource subscriptions: resources are read when requested, never watched for a client",
};
/** Extension scenarios (run by neither revision): reasons by name prefix. */
const EXTENSIONS = {
  "tasks-": "the tasks extension (SEP-2663): a call runs to its end within its request; WasmForge hands out no task to poll, update or cancel later",
  "sep-2640-skills-": "the skills extension (SEP-2640): WasmForge serves tools, prompts and resources, not skills",
};

/** Scenarios that pass with a check the suite only reports (INFO), and what it means for WasmForge. */
const NOTES = {
  "server-sse-polling":
    "its close-and-resume check is informational: a 2025 session's stream events are kept, so a client whose stream broke " +
    "resumes it with Last-Event-ID (test/http.test.ts), but WasmForge never closes a call's stream itself, so the result comes on the first stream",
};

/** A 1x1 red PNG, served as the binary resource. */
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
const WAT_PLUGINS = ["log-plugin", "content-plugin", "prompt-plugin"];
const ASC_PLUGINS = ["input-plugin", "ask-plugin", "events-plugin"];

/** SEP-1613 and SEP-2106: $schema, $defs with an $anchor, allOf/anyOf, if/then/else, additionalProperties. */
const SCHEMA_2020_12 =
  '{ "$schema" = "https://json-schema.org/draft/2020-12/schema", type = "object", ' +
  '"$defs" = { address = { "$anchor" = "addressDef", type = "object", properties = { street = { type = "string" }, city = { type = "string" } } } }, ' +
  'properties = { name = { type = "string" }, address = { "$ref" = "#/$defs/address" }, ' +
  'contactMethod = { type = "string", enum = ["phone", "email"] }, phone = { type = "string" }, email = { type = "string" } }, ' +
  'allOf = [{ anyOf = [{ required = ["phone"] }, { required = ["email"] }] }], ' +
  'if = { properties = { contactMethod = { const = "phone" } }, required = ["contactMethod"] }, ' +
  'then = { required = ["phone"] }, else = { required = ["email"] }, additionalProperties = false }';

/** SEP-2243: the argument travels in an Mcp-Param-Text header too, which WasmForge checks against the body. */
const SCHEMA_X_MCP_HEADER = '{ type = "object", properties = { text = { type = "string", "x-mcp-header" = "Text" } }, required = ["text"] }';

/** Compiles each bench/conformance plugin into dir; returns name → .wasm path. */
async function compileFixtures(dir) {
  const wabt = await (await import("wabt")).default();
  const files = {};
  for (const name of WAT_PLUGINS) {
    const source = readFileSync(join(ROOT, "bench", "conformance", `${name}.wat`), "utf8");
    files[name] = join(dir, `${name}.wasm`);
    writeFileSync(files[name], wabt.parseWat(`${name}.wat`, source).toBinary({}).buffer);
  }
  for (const name of ASC_PLUGINS) {
    files[name] = join(dir, `${name}.wasm`);
    writeFileSync(files[name], await buildAsc(join(ROOT, "bench", "conformance", name), ROOT));
  }
  return files;
}

/** The resources, resource template and prompts the scenarios read, as the config declares them. */
function offersConfig(pngFile) {
  return `
[[resources]]
name = "static-text"
uri = "test://static-text"
description = "A static text resource"
mime_type = "text/plain"
text = "This is the content of the static text resource."

[[resources]]
name = "static-binary"
uri = "test://static-binary"
description = "A static binary resource (a 1x1 PNG)"
mime_type = "image/png"
path = ${JSON.stringify(pngFile)}

[[resource_templates]]
name = "template-data"
uri_template = "test://template/{id}/data"
description = "Data for an id"
mime_type = "application/json"
text = '{"id":"{{id}}","templateTest":true,"data":"Data for ID: {{id}}"}'

[[prompts]]
name = "test_simple_prompt"
description = "A simple prompt without arguments"
messages = [{ role = "user", text = "This is a simple prompt for testing." }]

[[prompts]]
name = "test_prompt_with_arguments"
description = "A prompt with two arguments"
arguments = [
  { name = "arg1", description = "First test argument", required = true },
  { name = "arg2", description = "Second test argument", required = true },
]
messages = [{ role = "user", text = "Prompt with arguments: arg1='{{arg1}}', arg2='{{arg2}}'" }]
`;
}

function writeFixtureConfig(dir, plugins) {
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
    module("log-plugin", plugins["log-plugin"], [["log_thrice", "test_tool_with_logging"]]),
    // Self-describing plugins: they name their own tools and prompts as the scenarios expect.
    module("content-plugin", plugins["content-plugin"], []),
    module("prompt-plugin", plugins["prompt-plugin"], []),
    module("input-plugin", plugins["input-plugin"], []),
    module("ask-plugin", plugins["ask-plugin"], []),
    module("events-plugin", plugins["events-plugin"], []),
    // SEP-1613/SEP-2106 and SEP-2243: input_schema from the config reaches tools/list untouched.
    module("text-plugin", join(ROOT, "test-modules", "text-plugin.wasm"), [
      ["greet", "json_schema_2020_12_tool", `input_schema = ${SCHEMA_2020_12}\n`],
      ["count_vowels", "test_x_mcp_header", `input_schema = ${SCHEMA_X_MCP_HEADER}\n`],
      ...hide(["roll_dice"]),
    ]),
    module("progress", join(ROOT, "test-modules", "example.wasm"), [
      ["answer", "test_tool_with_progress"],
      ...hide(["add", "scale", "fib", "validate_url", "process_response"]),
    ]),
  ].join("\n");
  const png = join(dir, "static-binary.png");
  writeFileSync(png, Buffer.from(PNG_BASE64, "base64"));
  const file = join(dir, "wasmforge.toml");
  writeFileSync(file, config + offersConfig(png));
  return file;
}

/** Runs the suite's CLI under Node 22 (through npx); resolves with its exit code and output. */
function conformance(args) {
  return new Promise((resolve) => {
    const child = spawn("npx", ["--yes", "-p", NODE, "-p", CONFORMANCE, "conformance", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGTERM"), 600_000);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Every server scenario and the revisions it belongs to (or "extension"), from `conformance list --server`. */
async function listScenarios() {
  const run = await conformance(["list", "--server"]);
  const scenarios = new Map();
  for (const match of run.stdout.matchAll(/^\s+- (\S+) \[([^\]]*)\]$/gm)) scenarios.set(match[1], match[2].split(","));
  if (scenarios.size === 0) throw new Error(`conformance list --server printed no scenarios (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  return scenarios;
}

/** Scenario → its checks by status, from the per-scenario checks.json files the suite writes. */
function readResults(outDir) {
  const results = new Map();
  if (!existsSync(outDir)) return results;
  for (const entry of readdirSync(outDir)) {
    const match = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(entry);
    const file = join(outDir, entry, "checks.json");
    if (!match || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, "utf8"));
    const count = (status) => checks.filter((c) => c.status === status).length;
    const problems = checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING");
    results.set(match[1], {
      passed: count("SUCCESS"),
      failed: count("FAILURE"),
      warnings: count("WARNING"),
      problem: problems[0] && `${problems[0].id}: ${problems[0].errorMessage ?? problems[0].status}`,
    });
  }
  return results;
}

/** Why a scenario does not apply, or undefined. */
function notApplicable(name) {
  if (NOT_APPLICABLE[name]) return NOT_APPLICABLE[name];
  const prefix = Object.keys(EXTENSIONS).find((p) => name.startsWith(p));
  return prefix && EXTENSIONS[prefix];
}

function checksText(r) {
  const parts = [`${r.passed} passed`];
  if (r.failed) parts.push(`${r.failed} failed`);
  if (r.warnings) parts.push(`${r.warnings} warning${r.warnings === 1 ? "" : "s"}`);
  return parts.join(", ");
}

if (!existsSync(CLI)) {
  process.stderr.write(`conformance: ${CLI} not found; run \`npm run build\` first\n`);
  process.exit(1);
}
const dir = tempDir("wasmforge-conformance-");
const config = writeFixtureConfig(dir, await compileFixtures(dir));
process.stderr.write(`conformance: ${CONFORMANCE} under ${NODE} (npx fetches both on first use)\n`);
const scenarios = await listScenarios();
const server = await spawnListening(wasmforgeCommand(config, ["--http", "127.0.0.1:0", "--log-level", "info"]), "http");
const results = {};
try {
  for (const revision of REVISIONS) {
    const outDir = join(dir, `results-${revision}`);
    process.stderr.write(`conformance: --spec-version ${revision} --suite all against ${server.url}\n`);
    const run = await conformance(["server", "--url", server.url, "--spec-version", revision, "--suite", "all", "-o", outDir]);
    results[revision] = readResults(outDir);
    if (results[revision].size === 0) {
      process.stderr.write(`conformance: the ${revision} run left no results (exit ${run.status}):\n${run.stdout}${run.stderr}\n`);
    }
  }
} finally {
  await server.stop();
}

const rows = [];
const stale = [];
for (const [name, tags] of scenarios) {
  const revisions = REVISIONS.filter((r) => tags.includes(r));
  if (notApplicable(name)) {
    // A scenario listed as not applicable that passes now: the list is out of date.
    if (revisions.some((v) => results[v].get(name)?.failed === 0)) stale.push(name);
    continue;
  }
  // A scenario neither revision runs, with no reason to skip it, counts as failing.
  if (revisions.length === 0) rows.push({ name, revision: tags.join(","), passed: false, checks: "run by neither revision" });
  for (const revision of revisions) {
    const r = results[revision].get(name);
    const passed = r !== undefined && r.failed === 0 && r.warnings === 0;
    rows.push({ name, revision, passed, checks: r ? checksText(r) : "did not run", problem: r?.problem });
  }
}
const failing = rows.filter((r) => !r.passed);
const table = ["| Scenario | Revision | Result | Checks |", "|---|---|---|---|"];
for (const r of rows) table.push(`| ${r.name} | ${r.revision} | ${r.passed ? "✅ pass" : "❌ fail"} | ${r.checks} |`);
const inapplicable = [...scenarios.keys()].filter(notApplicable);
const naTable = ["| Scenario | Why it does not apply |", "|---|---|"];
for (const name of inapplicable) naTable.push(`| ${name} | ${notApplicable(name)} |`);

const passedCount = (revision) => rows.filter((r) => r.revision === revision && r.passed).length;
const ofCount = (revision) => rows.filter((r) => r.revision === revision).length;
const summary =
  `MCP conformance (${CONFORMANCE}, every server scenario, over Streamable HTTP): ` +
  REVISIONS.map((v) => `${v} ${passedCount(v)}/${ofCount(v)}`).join(", ") +
  ` applicable scenarios pass; ${inapplicable.length} do not apply.`;
const notes = Object.entries(NOTES).map(([name, note]) => `- ${name}: ${note}`);
const problems = failing.map((r) => `- ${r.name} (${r.revision}): ${r.problem ?? r.checks}`);
process.stdout.write(
  `${summary}\n\n${table.join("\n")}\n\nNotes:\n${notes.join("\n")}\n\nNot applicable:\n\n${naTable.join("\n")}\n` +
    (problems.length ? `\nFailing:\n${problems.join("\n")}\n` : "") +
    (stale.length ? `\nListed as not applicable but passing now (remove them from NOT_APPLICABLE): ${stale.join(", ")}\n` : ""),
);

const resultsDir = join(ROOT, "bench", "results");
mkdirSync(resultsDir, { recursive: true });
const report = { date: new Date().toISOString(), suite: CONFORMANCE, summary, scenarios: rows, notApplicable: Object.fromEntries(inapplicable.map((n) => [n, notApplicable(n)])) };
writeFileSync(join(resultsDir, "conformance.json"), JSON.stringify(report, null, 2) + "\n");
process.exit(failing.length ? 1 : 0);
