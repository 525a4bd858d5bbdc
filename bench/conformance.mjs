#!/usr/bin/env node
// Runs the official MCP conformance server scenarios (@modelcontextprotocol/conformance) against
// `wasmforge serve --http`, and reports which applicable scenarios pass. The suite needs Node 22 and an
// HTTP endpoint; npx fetches both (the `node@22` npm package) on first use.
//
//   node bench/conformance.mjs            (after `npm run build`; exits 1 if an applicable scenario fails)
//
// The scenarios call fixtures by fixed names (test_simple_text, test://static-text, test_simple_prompt, ...):
// the config below serves example modules under those names, config [[resources]], [[resource_templates]]
// and [[prompts]] with the content the scenarios expect, and three small plugins from bench/conformance/:
// log-plugin.wat (logging), content-plugin.wat (image, audio and embedded-resource tool results) and
// prompt-plugin.wat (prompts with image and embedded-resource messages).

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, ROOT, spawnListening, tempDir, wasmforgeCommand } from "./lib/servers.mjs";

const CONFORMANCE = "@modelcontextprotocol/conformance@0.1.16";

/** Scenarios that test features WasmForge does not offer, and why. */
const NOT_APPLICABLE = {
  "completion-complete": "no argument completion: WasmForge does not serve completion/complete (nor a plugin's `complete` export)",
  "resources-subscribe": "no resource subscriptions: resources are read on request and never watched for a client",
  "resources-unsubscribe": "no resource subscriptions: resources are read on request and never watched for a client",
  "tools-call-sampling": "modules cannot send requests to the client, so no LLM sampling mid-call",
  "tools-call-elicitation": "modules cannot send requests to the client, so no asking the user mid-call",
  "elicitation-sep1034-defaults": "modules cannot send requests to the client, so no asking the user mid-call",
  "elicitation-sep1330-enums": "modules cannot send requests to the client, so no asking the user mid-call",
};

/** A 1x1 red PNG, served as the binary resource. */
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
const FIXTURE_PLUGINS = ["log-plugin", "content-plugin", "prompt-plugin"];

const SCHEMA_2020_12 =
  '{ "$schema" = "https://json-schema.org/draft/2020-12/schema", type = "object", ' +
  '"$defs" = { address = { type = "object", properties = { street = { type = "string" }, city = { type = "string" } } } }, ' +
  'properties = { name = { type = "string" }, address = { "$ref" = "#/$defs/address" } }, additionalProperties = false }';

/** Compiles each bench/conformance/NAME.wat into dir; returns NAME → .wasm path. */
async function compileFixtures(dir) {
  const wabt = await (await import("wabt")).default();
  const files = {};
  for (const name of FIXTURE_PLUGINS) {
    const source = readFileSync(join(ROOT, "bench", "conformance", `${name}.wat`), "utf8");
    files[name] = join(dir, `${name}.wasm`);
    writeFileSync(files[name], wabt.parseWat(`${name}.wat`, source).toBinary({}).buffer);
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
  const png = join(dir, "static-binary.png");
  writeFileSync(png, Buffer.from(PNG_BASE64, "base64"));
  const file = join(dir, "wasmforge.toml");
  writeFileSync(file, config + offersConfig(png));
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
const config = writeFixtureConfig(dir, await compileFixtures(dir));
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
