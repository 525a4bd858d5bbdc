import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { cpuMicros } from "./bench/lib/proc.mjs";
const tools = { add: { a: 1, b: 2 }, count_vowels: { text: "hello world" }, validate_url: { data: "https://example.com" } };
async function run(bare, tool, inflight) {
  const t = new StdioClientTransport({ command: process.execPath, args: bare ? ["bench/baseline-server.mjs"] : ["dist/cli.js", "serve", "--no-watch"], stderr: "ignore" });
  const c = new Client({ name: "p", version: "1" });
  await c.connect(t);
  const N = 8000; let next = 0;
  const go = async (n) => { next = 0; await Promise.all(Array.from({ length: inflight }, async () => { while (next++ < n) await c.callTool({ name: tool, arguments: tools[tool] }); })); };
  await go(2000);
  const cpu0 = cpuMicros(t.pid); const t0 = performance.now();
  await go(N);
  const r = { cps: N / ((performance.now() - t0) / 1000), cpu: (cpuMicros(t.pid) - cpu0) / N };
  await c.close();
  return r;
}
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const tool of (process.argv[2] ?? "add,validate_url,count_vowels").split(",")) for (const inflight of [1, 16]) {
  const w = [], b = [];
  for (let i = 0; i < 3; i++) { w.push(await run(false, tool, inflight)); b.push(await run(true, tool, inflight)); }
  const ratios = w.map((x, i) => x.cps / b[i].cps);
  console.log(`${tool.padEnd(13)} ${String(inflight).padStart(2)} in flight: ${Math.round(med(w.map(x=>x.cps)))} vs ${Math.round(med(b.map(x=>x.cps)))} calls/s, ratio ${med(ratios).toFixed(2)}; CPU ${med(w.map(x=>x.cpu)).toFixed(0)} vs ${med(b.map(x=>x.cpu)).toFixed(0)} µs/call (${(med(w.map(x=>x.cpu))/med(b.map(x=>x.cpu))).toFixed(2)}×)`);
}
