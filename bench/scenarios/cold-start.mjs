// Cold start: spawn → the client's opening exchange answered (initialize for a 2025 client,
// server/discover for a 2026 client pinned to 2026-07-28) → `tools/list` answered, median of several
// runs, for the given config (wasmforge.toml by default) and for 20 modules, against the bare v2 SDK
// server with a client of the same era; the bare v1 SDK server (2025 client) is measured beside them.
// Runs alternate between the servers so a noisy moment hits all of them alike.

import { relative } from "node:path";
import { performance } from "node:perf_hooks";
import { median } from "../lib/stats.mjs";
import { ROOT, baselineCommand, baselineV1Command, connectStdio, wasmforgeCommand, writeCopiesConfig } from "../lib/servers.mjs";

const TITLE = "Cold start";
const TARGET = 1.25;
const runs = (quick) => (quick ? 3 : 9);

async function startOnce(command, era) {
  const started = performance.now();
  const server = await connectStdio(command, era);
  const connected = performance.now() - started;
  const { tools } = await server.client.listTools();
  const listed = performance.now() - started;
  await server.close();
  if (tools.length === 0) throw new Error(`${command.label} listed no tools`);
  return { connected, listed, tools: tools.length };
}

export const coldStart = {
  id: "cold",
  title: TITLE,
  about: (quick) =>
    `Spawn → the client's opening exchange answered (\`initialize\` for 2025, \`server/discover\` for 2026) → ` +
    `\`tools/list\` answered; median of ${runs(quick)} runs, alternating servers. Bare v1: the v1 SDK server with the 2025 client.`,
  async run({ quick, log, config, eras }) {
    const subjects = eras.flatMap((era) => [
      { key: `baseline ${era}`, era, command: baselineCommand() },
      { key: `default ${era}`, era, command: wasmforgeCommand(config) },
      { key: `twenty ${era}`, era, command: wasmforgeCommand(writeCopiesConfig(20)) },
    ]);
    if (eras.includes("2025")) subjects.push({ key: "v1", era: "2025", command: baselineV1Command() });
    const samples = Object.fromEntries(subjects.map((s) => [s.key, []]));
    await startOnce(subjects[0].command, subjects[0].era); // warms the disk cache and Node's compile cache
    for (let run = 0; run < runs(quick); run++) {
      const order = run % 2 === 0 ? subjects : [...subjects].reverse();
      for (const s of order) samples[s.key].push(await startOnce(s.command, s.era));
      log(`cold start run ${run + 1}/${runs(quick)}`);
    }
    const med = (key, field) => median(samples[key].map((s) => s[field]));
    const ms = (v) => `${v.toFixed(0)} ms`;
    const row = (metric, key, era) => ({
      scenario: TITLE,
      metric: `${metric}, ${era}`,
      era,
      wasmforge: med(`${key} ${era}`, "listed"),
      baseline: med(`baseline ${era}`, "listed"),
      unit: "ms",
      better: "lower",
      target: TARGET,
      ...(samples.v1 && { reference: { value: med("v1", "listed") } }),
      connected: { wasmforge: med(`${key} ${era}`, "connected"), baseline: med(`baseline ${era}`, "connected") },
      note: `${era === "2026" ? "server/discover" : "initialize"} answered at ${ms(med(`${key} ${era}`, "connected"))} vs ${ms(med(`baseline ${era}`, "connected"))}; ${samples[`${key} ${era}`][0].tools} tools`,
    });
    const name = relative(ROOT, config);
    return eras.flatMap((era) => [row(`tools/list answered, ${name}`, "default", era), row("tools/list answered, 20 modules", "twenty", era)]);
  },
};
