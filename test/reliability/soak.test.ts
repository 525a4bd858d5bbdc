// Soak: 16 concurrent clients call every example tool and the hostile ones (endless loop, traps, memory
// bomb) for a bounded time, and each of them at least once however slow the machine. No healthy call
// may fail, every hostile call must come back as a tool error, memory must level off, and the
// servers must still answer afterwards.
//
// stdio serves one client per process, so there the 16 clients are 4 processes × 4 concurrent
// callers: independent sessions and concurrency within one, without 16 processes (and their 64
// worker threads) fighting over a two-core machine. Over TCP (when built) one server takes 16
// connections, which is how it is meant to be used.
//
//   WASMFORGE_SOAK_SECONDS (default 4), WASMFORGE_SOAK_PROCESSES (4), WASMFORGE_SOAK_CALLERS (4)

import { execFileSync } from "node:child_process";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { describe, expect, it } from "vitest";
import { CLI } from "../helpers.js";
import { CALLS, envNumber, isAlive, mismatch, rssBytes, startServer, writeHostileConfig } from "./support.js";

const SECONDS = envNumber("WASMFORGE_SOAK_SECONDS", 4);
const PROCESSES = envNumber("WASMFORGE_SOAK_PROCESSES", 4);
const CALLERS = envNumber("WASMFORGE_SOAK_CALLERS", 4);
const CLIENTS = PROCESSES * CALLERS;
const HAS_TCP = /--tcp\b/.test(execFileSync(process.execPath, [CLI, "serve", "--help"], { encoding: "utf8" }));
const MB = 1024 * 1024;

interface Tally {
  healthy: number;
  hostile: number;
  failures: string[];
}

const HEALTHY_PER_ROUND = CALLS.filter((c) => !c.hostile).length;
const HOSTILE_PER_ROUND = CALLS.length - HEALTHY_PER_ROUND;

/**
 * Calls every tool in turn, starting at `start`, until the deadline, and at least once each however
 * slow the machine is: a loaded machine makes the soak longer, never emptier. `progress` counts calls.
 */
async function caller(client: Client, who: string, start: number, deadline: number, tally: Tally, progress: () => void): Promise<void> {
  for (let i = start; Date.now() < deadline || i < start + CALLS.length; i++) {
    const call = CALLS[i % CALLS.length];
    let problem: string | undefined;
    try {
      const result = await client.callTool({ name: call.name, arguments: call.arguments }, undefined, { timeout: 30_000 });
      problem = mismatch(call, result);
    } catch (err) {
      problem = `threw ${(err as Error).message}`;
    }
    if (problem) tally.failures.push(`${who} ${call.name}: ${problem}`);
    else if (call.hostile) tally.hostile++;
    else tally.healthy++;
    progress();
  }
}

/**
 * Runs the callers until the deadline; reads each pid's RSS once every caller is half way through
 * its first round (JIT warm, workers replaced after the first timeouts), and at the end.
 */
async function soak(callers: { client: Client; who: string }[], pids: number[]): Promise<{ tally: Tally; warm: number[]; end: number[] }> {
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  const tally: Tally = { healthy: 0, hostile: 0, failures: [] };
  const made = callers.map(() => 0);
  let warm: number[] | undefined;
  const running = callers.map(({ client, who }, i) =>
    caller(client, who, i * 3, deadline, tally, () => {
      made[i]!++;
      if (!warm && made.every((n) => n >= CALLS.length / 2)) warm = pids.map(rssBytes);
    }),
  );
  await Promise.all(running);
  const end = pids.map(rssBytes);
  warm ??= end;
  const rss = pids.map((pid, i) => `pid ${pid}: ${(warm![i] / MB).toFixed(0)} → ${(end[i] / MB).toFixed(0)} MB`).join("; ");
  console.log(`soak ${((Date.now() - started) / 1000).toFixed(1)} s, ${callers.length} clients: ${tally.healthy} healthy and ${tally.hostile} hostile calls; RSS ${rss}`);
  return { tally, warm, end };
}

function expectHealthy({ tally, warm, end }: { tally: Tally; warm: number[]; end: number[] }, pids: number[]): void {
  expect(tally.failures.slice(0, 10), `${tally.failures.length} failed calls`).toEqual([]);
  // Every client made every call at least once.
  expect(tally.healthy).toBeGreaterThanOrEqual(CLIENTS * HEALTHY_PER_ROUND);
  expect(tally.hostile).toBeGreaterThanOrEqual(CLIENTS * HOSTILE_PER_ROUND);
  for (const [i, pid] of pids.entries()) {
    // Generous: V8 grows its heaps lazily; a leak per call would blow well past this.
    expect(end[i], `RSS of pid ${pid} kept growing`).toBeLessThan(warm[i] + Math.max(64 * MB, warm[i] / 2));
    expect(isAlive(pid), `pid ${pid} is gone`).toBe(true);
  }
}

async function expectStillServes(client: Client): Promise<void> {
  const result = await client.callTool({ name: "add", arguments: { a: 40, b: 2 } });
  expect(mismatch({ name: "add", arguments: {}, text: "42" }, result)).toBeUndefined();
}

describe("soak", () => {
  it(
    `stdio: ${PROCESSES} servers × ${CALLERS} concurrent callers for ${SECONDS} s: no failed call, hostile modules contained, RSS levels off`,
    async () => {
      const config = writeHostileConfig();
      const servers = await Promise.all(Array.from({ length: PROCESSES }, () => startServer(config)));
      try {
        const callers = servers.flatMap((s) => Array.from({ length: CALLERS }, (_, c) => ({ client: s.client, who: `pid ${s.pid} caller ${c}` })));
        const pids = servers.map((s) => s.pid);
        expectHealthy(await soak(callers, pids), pids);
        for (const server of servers) await expectStillServes(server.client);
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
    },
    SECONDS * 1000 + 60_000,
  );

  it.runIf(HAS_TCP)(
    `tcp: one server, ${CLIENTS} connections for ${SECONDS} s: no failed call, hostile modules contained, RSS levels off`,
    async () => {
      // Loaded only when TCP is built: the helpers come with it.
      const { serveNetwork, tcpPort, connectTcp } = await import("../network.js");
      const served = await serveNetwork(["--config", writeHostileConfig(), "--tcp", "127.0.0.1:0"], [/tcp:\/\/127\.0\.0\.1:\d+/]);
      const clients: Client[] = [];
      try {
        const port = tcpPort(served.stderr());
        for (let i = 0; i < CLIENTS; i++) clients.push((await connectTcp(port)).client);
        const pid = served.child.pid!;
        expectHealthy(await soak(clients.map((client, i) => ({ client, who: `connection ${i}` })), [pid]), [pid]);
        for (const client of clients) await expectStillServes(client);
      } finally {
        await Promise.all(clients.map((c) => c.close().catch(() => {})));
        expect(await served.stop()).toBe(0);
      }
    },
    SECONDS * 1000 + 60_000,
  );
});
