// Reload latency: a module file is rewritten while a client is connected; how long until the client
// hears of it (a 2025 client: notifications/tools/list_changed; a 2026 client: the same notification
// on the subscriptions/listen stream it opened), and until a call shows the new behaviour. Needs
// `serve` to watch its files (hot reload); until then the scenario reports n/a. The bare SDK servers
// cannot reload, so these figures have an absolute target instead of a baseline.

import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { connectStdio, sleep, tempDir, wasmforgeCommand } from "../lib/servers.mjs";
import { median, percentile } from "../lib/stats.mjs";
import { versionModule } from "../lib/wasm.mjs";

const TITLE = "Hot reload";
const HEARD = { 2025: "list_changed received", 2026: "listen notification received" };
const TARGET_MS = 250;
const GIVE_UP_MS = 10_000;

function withDeadline(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${GIVE_UP_MS} ms`)), GIVE_UP_MS)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the time `predicate` first held, polling as fast as calls answer. */
async function until(predicate) {
  const deadline = performance.now() + GIVE_UP_MS;
  while (performance.now() < deadline) if (await predicate()) return performance.now();
  throw new Error(`reload not seen within ${GIVE_UP_MS} ms`);
}

/** Calls `onChanged` whenever the server says its tool list changed, in the way of the session's era. */
async function hearToolChanges(session, onChanged) {
  if (session.era === "2026") {
    session.client.setNotificationHandler("notifications/tools/list_changed", () => onChanged());
    const subscription = await session.client.listen({ toolsListChanged: true });
    if (!subscription.honoredFilter?.toolsListChanged) throw new Error("the server did not honour a subscriptions/listen for tools");
  } else {
    session.client.setNotificationHandler(ToolListChangedNotificationSchema, () => onChanged());
  }
}

/** `runs` rewrites of the module, each timed to the notification and to the new behaviour. */
async function reloadRuns(era, runs, log) {
  const dir = tempDir();
  const file = join(dir, "version.wasm");
  writeFileSync(file, versionModule(1));
  const config = join(dir, "wasmforge.toml");
  writeFileSync(config, `[[modules]]\nname = "reloaded"\npath = ${JSON.stringify(file)}\n`);
  const server = await connectStdio(wasmforgeCommand(config), era);
  let onChanged = () => {};
  const heard = [];
  const behaved = [];
  try {
    await hearToolChanges(server, () => onChanged());
    for (let version = 2; version < runs + 2; version++) {
      await sleep(300); // lets the watcher settle, so each write is its own burst
      const heardAt = withDeadline(new Promise((resolve) => (onChanged = () => resolve(performance.now()))), HEARD[era]);
      const started = performance.now();
      // Write-then-rename, as compilers and editors do, so the server never reads half a file.
      writeFileSync(`${file}.tmp`, versionModule(version));
      renameSync(`${file}.tmp`, file);
      const behaviourAt = until(async () => {
        const result = await server.client.callTool({ name: "version", arguments: {} });
        return result.content[0]?.text === String(version);
      });
      const [h, b] = await Promise.all([heardAt, behaviourAt]);
      heard.push(h - started);
      behaved.push(b - started);
      log(`reload ${version - 1}/${runs} (${era}): ${HEARD[era]} after ${heard.at(-1).toFixed(0)} ms`);
    }
  } finally {
    await server.close();
  }
  return { heard, behaved };
}

export const reload = {
  id: "reload",
  title: TITLE,
  about: () =>
    "A module file is replaced (write to a temporary file, then rename) while a client is connected over stdio: a 2025 client " +
    "hears `notifications/tools/list_changed`, a 2026 client the same on its `subscriptions/listen` stream. The bare SDK servers " +
    "cannot reload, so the target is absolute.",
  async run({ quick, log, features, eras }) {
    if (!features.watch) {
      return [{ scenario: TITLE, metric: "module file write → list_changed / new behaviour", wasmforge: null, baseline: null, unit: "ms", better: "lower", note: "n/a (hot reload not built yet)" }];
    }
    const row = (metric, era, samples) => ({
      scenario: TITLE,
      metric: `${metric}, ${era}`,
      era,
      wasmforge: median(samples),
      baseline: null,
      unit: "ms",
      better: "lower",
      absoluteTarget: TARGET_MS,
      note: `p50 of ${samples.length}; max ${percentile(samples, 100).toFixed(0)} ms`,
    });
    const rows = [];
    for (const era of eras) {
      const { heard, behaved } = await reloadRuns(era, quick ? 4 : 10, log);
      rows.push(row(`module file write → ${HEARD[era]}`, era, heard), row("module file write → new behaviour seen", era, behaved));
    }
    return rows;
  },
};
