#!/usr/bin/env node
// Calls/s through nginx with 1, 2 and 3 WasmForge replicas (sharing Redis), beside one replica
// without nginx and a bare v2 SDK server, all in the same run; and how long an admin upload takes
// to be served by every replica. Needs Debian's nginx and redis-server (scripts/cluster.mjs).
//
//   npm run build && node bench/cluster.mjs [--seconds 10] [--clients 16]
//
// CPU per call is the CPU time every process of the row used (replicas, nginx's master and
// workers; not Redis, which calls do not touch), divided by the calls: on a shared machine it is
// the steadier figure. On a 2-core machine more replicas cannot add speed — the replicas, nginx
// and the load generator share the same two cores — so the rows show what the proxy costs, not
// how far replicas scale.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort, startNginx, startRedis, startReplica } from "../scripts/cluster.mjs";
import { httpTransport, newClient } from "./lib/clients.mjs";
import { runCalls } from "./lib/load.mjs";
import { cpuMicros } from "./lib/proc.mjs";
import { baselineCommand, EXAMPLE_WASM, ROOT, spawnListening, tempDir } from "./lib/servers.mjs";
import { latencySummary } from "./lib/stats.mjs";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, clients: { type: "string", default: "16" } } });
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const CALLS = [{ name: "add", arguments: { a: 2, b: 3 } }];
const base = tempDir("wasmforge-bench-cluster-");

/** CPU µs of these pids and their children (nginx's workers) so far. */
function cpuOf(pids) {
  let total = 0;
  for (const pid of pids) {
    total += cpuMicros(pid) ?? 0;
    let children = [];
    try {
      children = execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
    } catch {
      // none
    }
    for (const child of children) total += cpuMicros(child) ?? 0;
  }
  return total;
}

/** `CLIENTS` 2026-07-28 clients calling `url` for SECONDS: calls/s, latency, CPU µs per call of `pids`. */
async function measure(label, url, pids) {
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const client = newClient("2026");
    await client.connect(httpTransport("2026", url));
    clients.push(client);
  }
  // Warm up: every replica has compiled and run the tool, connections are open.
  await Promise.all(clients.map((c) => runCalls(c, CALLS, { count: 20 })));
  const cpuBefore = cpuOf(pids);
  const results = await Promise.all(clients.map((c) => runCalls(c, CALLS, { durationMs: SECONDS * 1000 })));
  const cpu = cpuOf(pids) - cpuBefore;
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  const calls = results.reduce((n, r) => n + r.latencies.length, 0);
  const failures = results.reduce((n, r) => n + r.failures, 0);
  const elapsed = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
  const latency = latencySummary(results.flatMap((r) => r.latencies));
  const row = { label, callsPerSecond: calls / elapsed, p50: latency.p50, p99: latency.p99, cpuPerCall: cpu / calls, failures };
  console.error(`${label}: ${Math.round(row.callsPerSecond)} calls/s, p50 ${row.p50.toFixed(2)} ms, ${row.cpuPerCall.toFixed(0)} µs CPU/call${failures ? `, ${failures} failed` : ""}`);
  return row;
}

const config = (redisUrl) => `[[modules]]\nname = "example"\npath = ${JSON.stringify(EXAMPLE_WASM)}\n${redisUrl ? `\n[cluster]\nredis_url = "${redisUrl}"\nnamespace = "bench"\n` : ""}`;

const rows = [];
const bare = await spawnListening(baselineCommand(["--http", "0"]), "http");
rows.push(await measure("bare v2 SDK server, direct", bare.url, [bare.pid]));
await bare.stop();

const single = await startReplica({ id: "solo", dir: join(base, "solo"), config: config() });
rows.push(await measure("WasmForge, 1 replica, direct", `${single.url}/mcp`, [single.child.pid]));
await single.stop();

const redis = await startRedis({ port: await freePort(), dir: join(base, "redis") });
const replicas = [];
let propagation;
try {
  for (const count of [1, 2, 3]) {
    while (replicas.length < count) {
      const id = `r${replicas.length + 1}`;
      replicas.push(await startReplica({ id, dir: join(base, id), config: config(redis.url), env: { WASMFORGE_ADMIN_TOKEN: "bench-admin" } }));
    }
    const nginx = await startNginx({ port: await freePort(), replicas, dir: join(base, `nginx-${count}`) });
    rows.push(await measure(`WasmForge, ${count} replica${count === 1 ? "" : "s"}, through nginx`, `${nginx.url}/mcp`, [...replicas.map((r) => r.child.pid), nginx.child.pid]));
    if (count === 3) propagation = await uploadToServed(nginx, replicas);
    await nginx.stop();
  }
} finally {
  await Promise.all(replicas.map((r) => r.stop()));
  await redis.stop();
}

/** Median time from an admin upload through nginx to every replica listing its tool (5 uploads). */
async function uploadToServed(nginx, replicas) {
  const bytes = readFileSync(join(ROOT, "test-modules", "text.wasm"));
  const times = [];
  for (let i = 0; i < 5; i++) {
    const form = new FormData();
    form.append("module", JSON.stringify({ name: "text" }));
    form.append("wasm", new Blob([bytes]), "text.wasm");
    const started = performance.now();
    const res = await fetch(`${nginx.url}/admin/modules`, { method: "POST", headers: { authorization: "Bearer bench-admin" }, body: form });
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    await Promise.all(replicas.map((r) => untilServed(r, "count_words")));
    times.push(performance.now() - started);
    const removed = await fetch(`${nginx.url}/admin/modules/text`, { method: "DELETE", headers: { authorization: "Bearer bench-admin" } });
    if (removed.status !== 200) throw new Error(`remove: ${removed.status}`);
    await Promise.all(replicas.map((r) => untilServed(r, "count_words", false)));
  }
  return times.sort((a, b) => a - b)[2];
}

async function untilServed(replica, tool, present = true) {
  const client = newClient("2026");
  await client.connect(httpTransport("2026", `${replica.url}/mcp`));
  try {
    for (;;) {
      const names = (await client.listTools(undefined, { cacheMode: "refresh" })).tools.map((t) => t.name);
      if (names.includes(tool) === present) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await client.close();
  }
}

const bareRow = rows[0];
const lines = [
  `Cluster benchmark — ${CLIENTS} clients (2026-07-28, Streamable HTTP), ${SECONDS} s per row, \`add\` on example.wasm; ${new Date().toISOString()}`,
  "",
  "| Setup | Calls/s | × bare | p50 | p99 | CPU/call (all processes) | × bare |",
  "|---|---:|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.label} | ${Math.round(r.callsPerSecond)} | ${(r.callsPerSecond / bareRow.callsPerSecond).toFixed(2)}× | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${Math.round(r.cpuPerCall)} µs | ${(r.cpuPerCall / bareRow.cpuPerCall).toFixed(2)}× |`,
  ),
  "",
  `Admin upload through nginx until all 3 replicas serve the new tool: ${propagation.toFixed(0)} ms (median of 5).`,
  `Failed calls: ${rows.reduce((n, r) => n + r.failures, 0)}.`,
];
const report = lines.join("\n");
console.log(report);
mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
writeFileSync(join(ROOT, "bench", "results", "cluster.md"), `${report}\n`);
