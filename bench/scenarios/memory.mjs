// Memory: resident set size of the server process (worker threads included: they live in it) at idle
// with 1, 10 and 100 modules loaded, and its growth over many calls, against the bare SDK server.

import { runCalls } from "../lib/load.mjs";
import { rssBytes } from "../lib/proc.mjs";
import { baselineCommand, connectStdio, sleep, wasmforgeCommand, writeCopiesConfig } from "../lib/servers.mjs";

const TITLE = "Memory";
const MB = 1024 * 1024;
/** Calls used for the growth figure: one of each kind, round-robin. */
const MIXED = [
  { name: "add", arguments: { a: 2, b: 3 } },
  { name: "validate_url", arguments: { data: "https://example.com/" } },
  { name: "count_vowels", arguments: { text: "soak it up" } },
];

/** RSS once the server has answered tools/list and sat still for a moment. */
async function idleRss(command) {
  const server = await connectStdio(command);
  try {
    await server.client.listTools();
    await sleep(500);
    return rssBytes(server.pid);
  } finally {
    await server.close();
  }
}

/** RSS after a warm-up of a tenth as many calls, and after `total` calls more. */
async function growth(command, total) {
  const server = await connectStdio(command);
  try {
    await runCalls(server.client, MIXED, { count: total / 10, inFlight: 16 });
    const before = rssBytes(server.pid);
    const run = await runCalls(server.client, MIXED, { count: total, inFlight: 16 });
    if (run.failures) throw new Error(`${command.label}: ${run.failures} failed calls, first: ${run.firstError}`);
    const after = rssBytes(server.pid);
    return { before, after, growth: after - before };
  } finally {
    await server.close();
  }
}

export const memory = {
  id: "memory",
  title: TITLE,
  about: () => "Resident set size (VmRSS) of the server process, worker threads included. Idle: after `tools/list` and half a second of quiet; the modules are copies of example.wasm.",
  async run({ quick, log, config }) {
    const baselineIdle = await idleRss(baselineCommand());
    const rows = [];
    for (const count of [1, 10, 100]) {
      const rss = await idleRss(wasmforgeCommand(writeCopiesConfig(count)));
      log(`idle RSS with ${count} modules: ${(rss / MB).toFixed(1)} MB`);
      rows.push({ scenario: TITLE, metric: `RSS at idle, ${count} module${count > 1 ? "s" : ""} (${count * 6} tools)`, wasmforge: rss / MB, baseline: baselineIdle / MB, unit: "MB", better: "lower" });
    }
    const total = quick ? 10_000 : 50_000;
    const base = await growth(baselineCommand(), total);
    const wf = await growth(wasmforgeCommand(config), total);
    log(`RSS over ${total} calls: wasmforge ${(wf.before / MB).toFixed(1)} → ${(wf.after / MB).toFixed(1)} MB`);
    const note = (g) => `${(g.before / MB).toFixed(1)} → ${(g.after / MB).toFixed(1)} MB`;
    rows.push({
      scenario: TITLE,
      metric: `RSS growth over ${total.toLocaleString("en-US")} calls, 16 in flight, after ${(total / 10).toLocaleString("en-US")} warm-up calls`,
      wasmforge: wf.growth / MB,
      baseline: base.growth / MB,
      unit: "MB",
      better: "lower",
      noRatio: true,
      note: `wasmforge ${note(wf)}; baseline ${note(base)}`,
    });
    return rows;
  },
};
