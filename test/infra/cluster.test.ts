// Replicas behind a real nginx, sharing changes through a real Redis (`npm run test:cluster`; needs
// Debian's nginx and redis-server): deploy/nginx.conf in front of three `wasmforge serve --http`
// processes on 127.0.0.1, started by scripts/cluster.mjs and stopped after. The cases run in
// order, each on the cluster the one before left.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from "@modelcontextprotocol/client";
import { StreamableHTTPClientTransport as LegacyHttp } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startNginx, startRedis, startReplica } from "../../scripts/cluster.mjs";
import { legacyClient, modernClient } from "../clients.js";
import { metricSum, MODULES, moduleEntry, tempDir, textOf } from "../helpers.js";

type Proc = Awaited<ReturnType<typeof startReplica>>;
type Redis = Awaited<ReturnType<typeof startRedis>>;
type Nginx = Awaited<ReturnType<typeof startNginx>>;

const ADMIN = "cluster-admin-secret";
const CLIENTS = 16;
const CALLS = 200;
const TEXT = new Uint8Array(readFileSync(join(MODULES, "text.wasm")));

let base: string;
let redis: Redis;
let nginx: Nginx;
const replicas: Proc[] = [];
let config: string;

beforeAll(async () => {
  base = tempDir("wasmforge-cluster-test-");
  redis = await startRedis({ port: await freePort(), dir: join(base, "redis") });
  config = `[server]\nadmin_token = "${ADMIN}"\n\n${moduleEntry("calc", "example.wasm")}\n[cluster]\nredis_url = "${redis.url}"\nnamespace = "cluster-test"\n`;
  for (const id of ["r1", "r2", "r3"]) replicas.push(await startReplica({ id, dir: join(base, id), config }));
  nginx = await startNginx({ port: await freePort(), replicas, dir: join(base, "nginx") });
}, 60_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  await redis?.stop();
});

const mcpUrl = (where: { url: string }) => new URL(`${where.url}/mcp`);

async function modern(where: { url: string }): Promise<ModernClient> {
  const client = modernClient();
  await client.connect(new ModernHttp(mcpUrl(where)));
  return client;
}

/** Every tools/call of `clients` clients, `calls` each, through nginx: what failed, per client, by call index. */
async function load(clients: number, calls: number, progress?: { done: number }): Promise<{ failures: { client: number; call: number; error: string }[] }> {
  const connected = await Promise.all(Array.from({ length: clients }, () => modern(nginx)));
  const failures: { client: number; call: number; error: string }[] = [];
  try {
    await Promise.all(
      connected.map(async (client, c) => {
        for (let i = 0; i < calls; i++) {
          try {
            const result = await client.callTool({ name: "add", arguments: { a: c, b: i } });
            if (textOf(result) !== String(c + i)) throw new Error(`add(${c}, ${i}) answered ${textOf(result)}`);
          } catch (err) {
            failures.push({ client: c, call: i, error: (err as Error).message });
          }
          if (progress) progress.done++;
        }
      }),
    );
  } finally {
    await Promise.all(connected.map((client) => client.close()));
  }
  return { failures };
}

/** One replica's counter, read from its own /metrics. */
async function metric(replica: Proc, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricSum(await (await fetch(`${replica.url}/metrics`)).text(), name, labels);
}

async function upload(name: string, bytes: Uint8Array): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  form.append("module", JSON.stringify({ name }));
  form.append("wasm", new Blob([bytes]), `${name}.wasm`);
  const res = await fetch(`${nginx.url}/admin/modules`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}` }, body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function remove(name: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${nginx.url}/admin/modules/${name}`, { method: "DELETE", headers: { authorization: `Bearer ${ADMIN}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function toolsOn(replica: Proc): Promise<string[]> {
  const client = await modern(replica);
  try {
    return (await client.listTools(undefined, { cacheMode: "refresh" })).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

async function ready(replica: Proc): Promise<{ status: number; body: { ready: boolean; checks: Record<string, string> } }> {
  const res = await fetch(`${replica.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; checks: Record<string, string> } };
}

describe("WasmForge replicas behind nginx, sharing changes through Redis", () => {
  it("16 clients × 200 calls through nginx: none fails, and every replica answers its share", async () => {
    const before = await Promise.all(replicas.map((r) => metric(r, "wasmforge_tool_calls_total", { tool: "add", outcome: "ok" })));
    const { failures } = await load(CLIENTS, CALLS);
    expect(failures).toEqual([]);
    const after = await Promise.all(replicas.map((r) => metric(r, "wasmforge_tool_calls_total", { tool: "add", outcome: "ok" })));
    const served = after.map((n, i) => n - before[i]!);
    console.log(`calls answered per replica: ${served.map((n, i) => `${replicas[i]!.id} ${n}`).join(", ")}`);
    expect(served.reduce((a, b) => a + b, 0)).toBe(CLIENTS * CALLS);
    for (const n of served) expect(n).toBeGreaterThan(0);
  });

  it("an upload through nginx is served by every replica, and listen streams held on each hear of it", async () => {
    const listeners = await Promise.all(replicas.map((r) => modern(r)));
    try {
      const heard = listeners.map((client) => new Promise<void>((resolve) => client.setNotificationHandler("notifications/tools/list_changed", () => resolve())));
      const subscriptions = await Promise.all(listeners.map((client) => client.listen({ toolsListChanged: true })));
      const started = performance.now();
      const added = await upload("text", TEXT);
      expect(added.status, JSON.stringify(added.body)).toBe(201);
      await Promise.all(heard);
      for (const replica of replicas) await expect.poll(() => toolsOn(replica)).toContain("count_words");
      console.log(`upload answered → every replica serves it and every listen stream heard: ${Math.round(performance.now() - started)} ms`);
      await Promise.all(subscriptions.map((s) => s.close()));
    } finally {
      await Promise.all(listeners.map((client) => client.close()));
    }
  });

  it("kill -9 of one replica under load fails only calls it had in flight; restarted, it catches up", async () => {
    const victim = replicas[1]!;
    const progress = { done: 0 };
    const running = load(CLIENTS, CALLS, progress);
    await expect.poll(() => progress.done, { timeout: 60_000 }).toBeGreaterThan((CLIENTS * CALLS) / 4);
    await victim.kill();
    // A change while it is down: it must catch up with it on restart.
    const removed = await remove("text");
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    const { failures } = await running;
    console.log(`calls failed by kill -9 of ${victim.id}: ${failures.length} of ${CLIENTS * CALLS}: ${JSON.stringify(failures.slice(0, 3))}`);
    // Each client has one call in flight at a time: at most one per client was on the killed
    // replica, and every later call (nginx skips the dead replica) succeeds.
    const perClient = new Map<number, number>();
    for (const f of failures) perClient.set(f.client, (perClient.get(f.client) ?? 0) + 1);
    expect([...perClient.values()].every((n) => n === 1), JSON.stringify(failures)).toBe(true);
    expect(failures.length).toBeLessThanOrEqual(CLIENTS);

    const restarted = await startReplica({ id: victim.id, dir: victim.dir, config, port: victim.port });
    replicas[1] = restarted;
    await expect.poll(async () => (await ready(restarted)).status).toBe(200);
    expect((await ready(restarted)).body.checks.cluster).toMatch(/caught up/);
    const tools = await toolsOn(restarted);
    expect(tools).toContain("add");
    expect(tools).not.toContain("count_words");
    // And nginx sends it its share again, once it tries the replica again (fail_timeout).
    const before = await metric(restarted, "wasmforge_tool_calls_total", { tool: "add" });
    await expect
      .poll(async () => {
        expect((await load(4, 10)).failures).toEqual([]);
        return metric(restarted, "wasmforge_tool_calls_total", { tool: "add" });
      })
      .toBeGreaterThan(before);
  });

  it("Redis stopped and restarted under load: calls go on; changes are refused meanwhile and apply everywhere once it is back", async () => {
    const progress = { done: 0 };
    const running = load(CLIENTS, CALLS, progress);
    await expect.poll(() => progress.done, { timeout: 60_000 }).toBeGreaterThan((CLIENTS * CALLS) / 4);
    await redis.stop();
    for (const replica of replicas) await expect.poll(() => metric(replica, "wasmforge_cluster_connected")).toBe(0);
    const refused = await upload("text", TEXT);
    expect(refused.status).toBe(503);
    expect(String(refused.body.error)).toMatch(/nothing was changed: Redis/);
    // Still serving what they have: ready for calls, saying changes wait for Redis.
    for (const replica of replicas) {
      const { status, body } = await ready(replica);
      expect(status).toBe(200);
      expect(body.checks.cluster).toMatch(/admin changes refused/);
    }
    redis = await startRedis({ port: redis.port, dir: join(base, "redis") });
    for (const replica of replicas) await expect.poll(() => metric(replica, "wasmforge_cluster_connected"), { timeout: 20_000 }).toBe(1);
    const { failures } = await running;
    expect(failures).toEqual([]);

    const added = await upload("text", TEXT);
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    for (const replica of replicas) await expect.poll(() => toolsOn(replica)).toContain("count_words");
  });

  it("a 2025-era client keeps its session through nginx, and hears list_changed on its stream", async () => {
    const client = legacyClient();
    const transport = new LegacyHttp(mcpUrl(nginx));
    await client.connect(transport);
    try {
      expect(transport.sessionId).toMatch(/^r[123]\./);
      // Round-robin would send two of three requests to replicas that do not know the session.
      for (let i = 0; i < 12; i++) expect(textOf(await client.callTool({ name: "add", arguments: { a: i, b: 1 } }))).toBe(String(i + 1));
      const heard = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      // The GET stream opens just after connecting; a list answered on the session means it is routed.
      await expect.poll(async () => (await client.listTools()).tools.length).toBeGreaterThan(0);
      await expect.poll(() => metric(replicas.find((r) => transport.sessionId!.startsWith(`${r.id}.`))!, "wasmforge_streams_open", { kind: "get" })).toBe(1);
      expect((await remove("text")).status).toBe(200);
      await heard;
      expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("count_words");
    } finally {
      await client.close();
    }
  });
});
