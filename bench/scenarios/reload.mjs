// Reload latency: a module file is rewritten while a client is connected; how long until the client
// receives notifications/tools/list_changed, and until a call shows the new behaviour. Needs `serve` to
// watch its files (hot reload); until then the scenario reports n/a. The bare SDK server cannot reload,
// so these figures have an absolute target instead of a baseline.

import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { connectStdio, sleep, tempDir, wasmforgeCommand } from "../lib/servers.mjs";
import { median, percentile } from "../lib/stats.mjs";
import { versionModule } from "../lib/wasm.mjs";

const TITLE = "Hot reload";
const TARGET_MS = 250;
const GIVE_UP_MS = 10_000;

function withDeadline(promise) {
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no list_changed within ${GIVE_UP_MS} ms`)), GIVE_UP_MS)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the time `predicate` first held, polling as fast as calls answer. */
async function until(predicate) {
  const deadline = performance.now() + GIVE_UP_MS;
  while (performance.now() < deadline) if (await predicate()) return performance.now();
  throw new Error(`reload not seen within ${GIVE_UP_MS} ms`);
}

export const reload = {
  id: "reload",
  title: TITLE,
  about: () => "A module file is replaced (write to a temporary file, then rename) while a client is connected; the bare SDK server cannot reload, so the target is absolute.",
  async run({ quick, log, features }) {
    if (!features.watch) {
      return [{ scenario: TITLE, metric: "module file write → list_changed / new behaviour", wasmforge: null, baseline: null, unit: "ms", better: "lower", note: "n/a (hot reload not built yet)" }];
    }
    const dir = tempDir();
    const file = join(dir, "version.wasm");
    writeFileSync(file, versionModule(1));
    const config = join(dir, "wasmforge.toml");
    writeFileSync(config, `[[modules]]\nname = "reloaded"\npath = ${JSON.stringify(file)}\n`);
    const server = await connectStdio(wasmforgeCommand(config));
    let onListChanged = () => {};
    server.client.setNotificationHandler(ToolListChangedNotificationSchema, () => onListChanged());
    const toListChanged = [];
    const toBehaviour = [];
    try {
      const runs = quick ? 5 : 15;
      for (let version = 2; version < runs + 2; version++) {
        await sleep(300); // lets the watcher settle, so each write is its own burst
        const listChangedAt = withDeadline(new Promise((resolve) => (onListChanged = () => resolve(performance.now()))));
        const started = performance.now();
        // Write-then-rename, as compilers and editors do, so the server never reads half a file.
        writeFileSync(`${file}.tmp`, versionModule(version));
        renameSync(`${file}.tmp`, file);
        const behaviourAt = until(async () => {
          const result = await server.client.callTool({ name: "version", arguments: {} });
          return result.content[0]?.text === String(version);
        });
        const [listed, behaved] = await Promise.all([listChangedAt, behaviourAt]);
        toListChanged.push(listed - started);
        toBehaviour.push(behaved - started);
        log(`reload ${version - 1}/${runs}: list_changed ${toListChanged.at(-1).toFixed(0)} ms`);
      }
    } finally {
      await server.close();
    }
    const row = (metric, samples) => ({
      scenario: TITLE,
      metric,
      wasmforge: median(samples),
      baseline: null,
      unit: "ms",
      better: "lower",
      absoluteTarget: TARGET_MS,
      note: `p50 of ${samples.length}; max ${percentile(samples, 100).toFixed(0)} ms`,
    });
    return [row("module file write → list_changed received", toListChanged), row("module file write → new behaviour seen", toBehaviour)];
  },
};
