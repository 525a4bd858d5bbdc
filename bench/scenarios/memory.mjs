// Memory: resident set size of the server process (worker threads included: they live in it) at idle
// with 1, 10 and 100 modules loaded, and its growth over many calls, against the bare v2 SDK server,
// with a client of the first era asked for (2025 unless --eras says otherwise); the bare v1 SDK server
// (2025 client) is measured beside them.

import { runCalls } from "../lib/load.mjs";
import { rssBytes } from "../lib/proc.mjs";
import { baselineCommand, baselineV1Command, connectStdio, sleep, wasmforgeCommand, writeCopiesConfig } from "../lib/servers.mjs";

const TITLE = "Memory";
const MB = 1024 * 1024;
/** Calls used for the growth figure: one of each kind, round-robin. */
const MIXED = [
  { name: "add", arguments: { a: 2, b: 3 } },
  { name: "validate_url", arguments: { data: "https://example.com/" } },
  { name: "count_vowels", arguments: { text: "soak it up" } },
];

/** RSS once the server has answered tools/list and sat still for a moment. */
async function idleRss(command, era) {
  const server = await connectStdio(command, era);
  try {
    await server.client.listTools();
    await sleep(500);
    return rssBytes(server.pid);
  } finally {
    await server.close();
  }
}

/** RSS after a warm-up of a tenth as many calls, and after `total` calls more. */
async function growth(command, era, total) {
  const server = await connectStdio(command, era);
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
  about: () =>
    "Resident set size (VmRSS) of the server process, worker threads included. Idle: after `tools/list` and half a second of quiet; " +
    "the modules are copies of example.wasm. Bare v1: the v1 SDK server with the 2025 client.",
  async run({ quick, log, config, eras }) {
    const era = eras[0];
    const v1 = eras.includes("2025");
    const baselineIdle = await idleRss(baselineCommand(), era);
    const v1Idle = v1 ? await idleRss(baselineV1Command(), "2025") : undefined;
    const reference = (bytes) => (bytes === undefined ? {} : { reference: { value: bytes / MB } });
    const rows = [];
    for (const count of [1, 10, 100]) {
      const rss = await idleRss(wasmforgeCommand(writeCopiesConfig(count)), era);
      log(`idle RSS with ${count} modules: ${(rss / MB).toFixed(1)} MB`);
      rows.push({
        scenario: TITLE,
        metric: `RSS at idle, ${count} module${count > 1 ? "s" : ""} (${count * 6} tools), ${era}`,
        wasmforge: rss / MB,
        baseline: baselineIdle / MB,
        unit: "MB",
        better: "lower",
        ...reference(v1Idle),
      });
    }
    const total = quick ? 5_000 : 50_000;
    const base = await growth(baselineCommand(), era, total);
    const old = v1 ? await growth(baselineV1Command(), "2025", total) : undefined;
    const wf = await growth(wasmforgeCommand(config), era, total);
    log(`RSS over ${total} calls: wasmforge ${(wf.before / MB).toFixed(1)} → ${(wf.after / MB).toFixed(1)} MB`);
    const note = (g) => `${(g.before / MB).toFixed(1)} → ${(g.after / MB).toFixed(1)} MB`;
    rows.push({
      scenario: TITLE,
      metric: `RSS growth over ${total.toLocaleString("en-US")} calls, 16 in flight, after ${(total / 10).toLocaleString("en-US")} warm-up calls, ${era}`,
      wasmforge: wf.growth / MB,
      baseline: base.growth / MB,
      unit: "MB",
      better: "lower",
      noRatio: true,
      ...reference(old?.growth),
      note: `wasmforge ${note(wf)}; bare v2 ${note(base)}${old ? `; bare v1 ${note(old)}` : ""}`,
    });
    return rows;
  },
};
