#!/usr/bin/env node
// What a WebAssembly component costs: `wasmforge serve` started on a config naming one component,
// cold (an empty cache: the component is transpiled) and warm (a restart: the transpiled form comes
// from the cache), each in a fresh process, against a config of one plain module. Reports the time
// from spawn to the tools/list answer, the first call (a worker instantiates the component), the
// next calls, and the server's memory (resident now, and at its peak, which holds the transpiler).
//
//   npm run build && node bench/components.mjs [--runs N]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "dist", "cli.js");
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] || 3) || 3;
const docs = mkdtempSync(join(tmpdir(), "wasmforge-bench-docs-"));
writeFileSync(join(docs, "hello.txt"), "hello\n");

const cases = [
  { label: "plain module (example.wasm, for comparison)", path: "test-modules/example.wasm", tool: "add", args: { a: 1, b: 2 }, extra: "" },
  { label: "kitchen (WAT, 10 KB)", path: "test-modules/components/kitchen.wasm", tool: "add", args: { a: 1, b: 2 }, extra: "" },
  { label: "filesystem.wasm (Rust, 3.4 MB)", path: "test-modules/components/wassette/filesystem.wasm", tool: "read-file", args: { path: "/data/hello.txt" }, extra: `allowed_paths = { "${docs}" = "/data" }` },
  { label: "jsdemo (componentize-js, 12 MB)", path: "test-modules/components/jsdemo.wasm", tool: "reverse", args: { s: "abc" }, extra: "" },
];

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
}

async function once(c, cacheDir) {
  const dir = mkdtempSync(join(tmpdir(), "wasmforge-bench-"));
  const config = join(dir, "wasmforge.toml");
  writeFileSync(config, `[cache]\ndirectory = "${cacheDir}"\n[[modules]]\nname = "m"\npath = "${join(root, c.path)}"\n${c.extra}\n`);
  const started = performance.now();
  const transport = new StdioClientTransport({ command: process.execPath, args: [cli, "serve", "--config", config, "--no-watch"], stderr: "pipe" });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  await client.listTools();
  const listed = performance.now() - started;
  let t = performance.now();
  const first = await client.callTool({ name: c.tool, arguments: c.args });
  if (first.isError) throw new Error(`${c.label}: ${JSON.stringify(first)}`);
  const firstCall = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 50; i++) await client.callTool({ name: c.tool, arguments: c.args });
  const nextCall = (performance.now() - t) / 50;
  const mem = memory(transport.pid);
  await client.close();
  rmSync(dir, { recursive: true, force: true });
  return { listed, firstCall, nextCall, ...mem };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const c of cases) {
  for (const phase of ["cold", "warm"]) {
    if (phase === "cold" && c.path === "test-modules/example.wasm") continue;
    const results = [];
    const cacheDir = mkdtempSync(join(tmpdir(), "wasmforge-bench-cache-"));
    if (phase === "warm") await once(c, cacheDir); // fill the cache
    for (let i = 0; i < runs; i++) {
      if (phase === "cold") rmSync(cacheDir, { recursive: true, force: true });
      results.push(await once(c, cacheDir));
    }
    rmSync(cacheDir, { recursive: true, force: true });
    const m = (k) => median(results.map((r) => r[k]));
    rows.push([c.label, c.path.endsWith("example.wasm") ? "—" : phase, `${Math.round(m("listed"))} ms`, `${Math.round(m("firstCall"))} ms`, `${m("nextCall").toFixed(2)} ms`, `${m("rss")} MB`, `${m("peak")} MB`]);
    process.stderr.write(`${rows.at(-1).join(" | ")}\n`);
  }
}
console.log(`Median of ${runs} fresh processes each (Node ${process.versions.node}):\n`);
console.log("| config | cache | spawn → tools/list | first call | next calls | RSS after | peak RSS |");
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
rmSync(docs, { recursive: true, force: true });
