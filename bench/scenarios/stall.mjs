// How long the protocol thread can be held while a runaway module spins: one client calls an
// endless loop (it starts on the protocol thread, is preempted at the end of its slice, runs on in
// a worker until its deadline), while another client calls `add` one call after another over the
// same server. The figure is the longest gap between two of the second client's answers, beside
// the same client's longest gap with nothing spinning, measured in the same run. Lower is better;
// the target is absolute (the bare SDK servers cannot run wasm that loops).

import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { connectStdio, EXAMPLE_WASM, ROOT, tempDir, wasmforgeCommand } from "../lib/servers.mjs";
import { percentile } from "../lib/stats.mjs";
import { writeFileSync } from "node:fs";

const TITLE = "A runaway module";
const TARGET_MS = 50;
const LOOP_WASM = join(ROOT, "test-modules", "faults", "loop.wasm");

/** Calls add back to back until `done` settles: the gaps between answers, in ms. */
async function gaps(client, done) {
  const out = [];
  let over = false;
  void done.then(() => (over = true), () => (over = true));
  let last = performance.now();
  while (!over) {
    await client.callTool({ name: "add", arguments: { a: 1, b: 2 } });
    const now = performance.now();
    out.push(now - last);
    last = now;
  }
  return out;
}

export const stall = {
  id: "stall",
  title: TITLE,
  about: () =>
    "One client calls `spin` (an endless loop, `timeout_ms = 1500`); another calls `add` back to back over the same stdio server meanwhile. " +
    "Figure: the longest gap between two `add` answers while the loop runs, beside the longest with nothing spinning (same run, same duration).",
  async run({ quick, log }) {
    const dir = tempDir();
    const config = join(dir, "wasmforge.toml");
    writeFileSync(config, `[[modules]]\nname = "example"\npath = ${JSON.stringify(EXAMPLE_WASM)}\n\n[[modules]]\nname = "loop"\npath = ${JSON.stringify(LOOP_WASM)}\ntimeout_ms = 1500\n`);
    const server = await connectStdio(wasmforgeCommand(config), "2025");
    const rows = [];
    try {
      const runs = quick ? 2 : 5;
      const quiet = [];
      const spinning = [];
      for (let i = 0; i < runs; i++) {
        // The same length of time with nothing spinning, then with the loop.
        quiet.push(...(await gaps(server.client, new Promise((r) => setTimeout(r, 1500)))));
        const spin = server.client.callTool({ name: "spin", arguments: {} });
        spinning.push(...(await gaps(server.client, spin)));
        const result = await spin;
        if (!result.isError) throw new Error("spin answered without timing out");
        log(`runaway ${i + 1}/${runs}: longest gap ${percentile(spinning, 100).toFixed(1)} ms`);
      }
      rows.push({
        scenario: TITLE,
        metric: "longest gap between another client's answers while a loop spins (stdio)",
        wasmforge: percentile(spinning, 100),
        baseline: null,
        unit: "ms",
        better: "lower",
        absoluteTarget: TARGET_MS,
        // On a shared machine the longest gap is often the scheduler's, not the server's: the quiet figure says how much.
        note: `nothing spinning: ${percentile(quiet, 100).toFixed(1)} ms; p99.9 ${percentile(spinning, 99.9).toFixed(2)} / ${percentile(quiet, 99.9).toFixed(2)} ms, p99 ${percentile(spinning, 99).toFixed(2)} / ${percentile(quiet, 99).toFixed(2)} ms (spinning / not); ${spinning.length} calls`,
      });
    } finally {
      await server.close();
    }
    return rows;
  },
};
