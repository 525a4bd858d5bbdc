// Running WasmForge as a service (serve --http): health and readiness probes, Prometheus metrics,
// JSON logs, replica ids in session ids, and draining on SIGTERM. The cluster itself (nginx,
// Redis) is in test/infra/cluster.test.ts.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StreamableHTTPClientTransport as LegacyHttp } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../src/core/hash.js";
import { connectEra, legacyClient } from "./clients.js";
import { startGate } from "./gate.js";
import { metricSum, MODULES, moduleEntry, runCli, tempDir, textOf, writeConfig } from "./helpers.js";
import { serveNetwork, type Served } from "./network.js";

const HTTP_LINE = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/;
const TOKEN = "operations-token";
const BASE = moduleEntry("calc", "example.wasm") + moduleEntry("slow", "faults/slow.wasm");

const httpUrl = (served: Served, path = "/mcp") => new URL(`http://127.0.0.1:${HTTP_LINE.exec(served.stderr())![1]}${path}`);

async function get(url: URL, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text() };
}

describe("probes and metrics", () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveNetwork(["-c", writeConfig(BASE), "--no-watch", "--http", "0", "--replica-id", "r7"], [HTTP_LINE], { WASMFORGE_TOKEN: TOKEN });
  });
  afterAll(() => served?.stop());

  it("/healthz and /readyz answer without the token, and carry no tool data", async () => {
    const health = await get(httpUrl(served, "/healthz"));
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ status: "ok" });
    const ready = await get(httpUrl(served, "/readyz"));
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({ ready: true, checks: { config: "loaded", modules: "2 loaded" } });
    expect(ready.text).not.toMatch(/add|sleep_ms|calc/);
    // /mcp still wants the token.
    expect((await fetch(httpUrl(served), { method: "POST" })).status).toBe(401);
  });

  it("/metrics takes the token and counts calls by tool and outcome", async () => {
    expect((await get(httpUrl(served, "/metrics"))).status).toBe(401);
    const { client } = await connectEra("2026", { http: httpUrl(served), token: TOKEN });
    try {
      for (let i = 0; i < 3; i++) expect(textOf(await client.callTool({ name: "add", arguments: { a: i, b: 1 } }))).toBe(String(i + 1));
      expect((await client.callTool({ name: "add", arguments: { a: "x" } })).isError).toBe(true);
      await expect(client.callTool({ name: "nope", arguments: {} })).rejects.toThrow(/Unknown tool/);
    } finally {
      await client.close();
    }
    const metrics = await get(httpUrl(served, "/metrics"), TOKEN);
    expect(metrics.status).toBe(200);
    const text = metrics.text;
    expect(metricSum(text, "wasmforge_tool_calls_total", { tool: "add", outcome: "ok", replica: "r7" })).toBe(3);
    expect(metricSum(text, "wasmforge_tool_calls_total", { tool: "add", outcome: "invalid_arguments" })).toBe(1);
    expect(metricSum(text, "wasmforge_tool_calls_total", { tool: "", outcome: "unknown_tool" })).toBe(1);
    expect(metricSum(text, "wasmforge_tool_call_duration_seconds_count", { tool: "add" })).toBe(4);
    expect(metricSum(text, "wasmforge_tool_calls_in_flight", {})).toBe(0);
    expect(metricSum(text, "wasmforge_modules_loaded", {})).toBe(2);
    expect(text).toMatch(/^wasmforge_process_cpu_seconds_total/m);
  });

  it("a 2025 session id starts with the replica id, and the open session and its stream are counted", async () => {
    const client = legacyClient();
    const transport = new LegacyHttp(httpUrl(served), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } });
    await client.connect(transport);
    try {
      expect(transport.sessionId).toMatch(/^r7\.[0-9a-f-]{36}$/);
      await expect.poll(async () => metricSum((await get(httpUrl(served, "/metrics"), TOKEN)).text, "wasmforge_streams_open", { kind: "get" })).toBe(1);
      expect(metricSum((await get(httpUrl(served, "/metrics"), TOKEN)).text, "wasmforge_sessions_open", {})).toBe(1);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });
});

describe("operating settings", () => {
  it("[server] metrics_public serves /metrics without the token, and --log-format json writes one JSON object per line", async () => {
    const file = writeConfig(`[server]\nmetrics_public = true\n\n${BASE}`);
    const served = await serveNetwork(["--log-format", "json", "-c", file, "--no-watch", "--http", "0", "--replica-id", "edge-1"], [HTTP_LINE], { WASMFORGE_TOKEN: TOKEN });
    try {
      expect((await get(httpUrl(served, "/metrics"))).status).toBe(200);
      const lines = served.stderr().trim().split("\n");
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        expect(entry).toMatchObject({ level: expect.any(String), replica: "edge-1", message: expect.any(String) });
        expect(Number.isNaN(Date.parse(String(entry.time)))).toBe(false);
      }
      expect(lines.some((l) => l.includes("listening on http://"))).toBe(true);
    } finally {
      await served.stop();
    }
  });

  it("a replica id that cannot prefix a session id is refused before anything starts", async () => {
    const result = await runCli(["serve", "-c", writeConfig(BASE), "--http", "0", "--replica-id", "Bad.Id"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/replica id "Bad\.Id" .*expected 1-32 lowercase letters, digits or -/);
  });

  it("[cluster] settings are checked like the rest of the config", async () => {
    const result = await runCli(["tools", "-c", writeConfig(`[cluster]\nredis_url = "http://localhost:6379"\n\n${BASE}`)]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/cluster\.redis_url.*expected a redis:\/\/ or rediss:\/\/ URL/);
  });
});

describe("readiness while a module downloads", () => {
  it("/readyz says not ready until every module has loaded, and ready once it has", async () => {
    const TEXT = readFileSync(join(MODULES, "text.wasm"));
    const origin = await startGate();
    const file = writeConfig(
      `[server]\ndownload_wait_ms = 0\n[cache]\ndirectory = ${JSON.stringify(join(tempDir(), "cache"))}\n\n` +
        moduleEntry("calc", "example.wasm") +
        `[[modules]]\nname = "text"\nurl = "${origin.url}/text.wasm"\nsha256 = "${sha256Hex(TEXT)}"\n`,
    );
    const served = await serveNetwork(["-c", file, "--no-watch", "--http", "0"], [HTTP_LINE], { WASMFORGE_TOKEN: "" });
    try {
      const waiting = await get(httpUrl(served, "/readyz"));
      expect(waiting.status).toBe(503);
      expect(JSON.parse(waiting.text)).toMatchObject({ ready: false, checks: { modules: "still loading (downloading?)" } });
      await expect.poll(() => origin.waiting()).toBe(1);
      origin.open(TEXT);
      await expect.poll(async () => (await get(httpUrl(served, "/readyz"))).status).toBe(200);
    } finally {
      await served.stop();
      await origin.close();
    }
  });
});

describe("draining on SIGTERM", () => {
  it("finishes the call in flight, ends listen streams, refuses new connections and exits 0", async () => {
    const served = await serveNetwork(["-c", writeConfig(BASE), "--no-watch", "--http", "0"], [HTTP_LINE], { WASMFORGE_TOKEN: "" });
    const url = httpUrl(served);
    const { client } = await connectEra("2026", { http: url });
    const listener = await connectEra("2026", { http: url });
    try {
      const subscription = await listener.client.listen({ toolsListChanged: true });
      const listenEnded = subscription.closed;
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const call = client.callTool({ name: "sleep_ms", arguments: { ms: 1500 } }, { onprogress: () => started() });
      await running;
      served.child.kill("SIGTERM");
      // The server's own word that it waits for the call.
      await expect.poll(() => served.stderr()).toMatch(/waiting for 1 request in flight/);
      expect(textOf(await call)).toBe("1500");
      expect(await listenEnded).toBe("graceful");
      expect(await served.exited).toBe(0);
      await expect(fetch(new URL("/healthz", url))).rejects.toThrow();
    } finally {
      await Promise.all([client.close(), listener.client.close()]);
      await served.stop();
    }
  });
});
