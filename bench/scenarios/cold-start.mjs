// Cold start: spawn → `initialize` answered → `tools/list` answered, median of several runs, for the
// given config (wasmforge.toml by default) and for 20 modules, against the bare SDK server. Runs alternate between the servers
// so a noisy moment hits all of them alike.

import { relative } from "node:path";
import { performance } from "node:perf_hooks";
import { median } from "../lib/stats.mjs";
import { ROOT, baselineCommand, connectStdio, wasmforgeCommand, writeCopiesConfig } from "../lib/servers.mjs";

const TITLE = "Cold start";
const TARGET = 1.25;

async function startOnce(command) {
  const started = performance.now();
  const server = await connectStdio(command);
  const initialized = performance.now() - started;
  const { tools } = await server.client.listTools();
  const listed = performance.now() - started;
  await server.close();
  if (tools.length === 0) throw new Error(`${command.label} listed no tools`);
  return { initialized, listed, tools: tools.length };
}

export const coldStart = {
  id: "cold",
  title: TITLE,
  about: (quick) => `Spawn → response to \`initialize\` → response to \`tools/list\`, through the SDK Client; median of ${quick ? 5 : 11} runs, alternating servers.`,
  async run({ quick, log, config }) {
    const runs = quick ? 5 : 11;
    const subjects = [
      { key: "baseline", command: baselineCommand() },
      { key: "default", command: wasmforgeCommand(config) },
      { key: "twenty", command: wasmforgeCommand(writeCopiesConfig(20)) },
    ];
    const samples = Object.fromEntries(subjects.map((s) => [s.key, []]));
    await startOnce(subjects[0].command); // warms the disk cache and Node's compile cache
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? subjects : [...subjects].reverse();
      for (const s of order) samples[s.key].push(await startOnce(s.command));
      log(`cold start run ${run + 1}/${runs}`);
    }
    const med = (key, field) => median(samples[key].map((s) => s[field]));
    const row = (metric, key, field, target) => ({
      scenario: TITLE,
      metric,
      wasmforge: med(key, field),
      baseline: med("baseline", field),
      unit: "ms",
      better: "lower",
      ...(target ? { target } : {}),
      note: `median of ${runs}; ${samples[key][0].tools} tools`,
    });
    const name = relative(ROOT, config);
    return [
      row(`initialize answered, ${name}`, "default", "initialized"),
      row(`tools/list answered, ${name}`, "default", "listed", TARGET),
      row("initialize answered, 20 modules", "twenty", "initialized"),
      row("tools/list answered, 20 modules", "twenty", "listed", TARGET),
    ];
  },
};
