// `wasmforge fetch`: download and verify every module the config names, so a later start is offline.

import { findConfig, loadConfig, sourceOrigin } from "../config/load.js";
import { log } from "../core/log.js";
import { formatBytes } from "../core/format.js";
import { loadModuleBytes } from "../sources/index.js";

export interface FetchOptions {
  config?: string;
}

export async function fetchModules(options: FetchOptions): Promise<void> {
  const file = findConfig(options.config);
  const config = loadConfig(file);
  log.info(`config ${file}, cache ${config.cache.directory}`);
  const results = await Promise.all(
    config.modules.map(async (spec) => {
      try {
        return { spec, loaded: await loadModuleBytes(spec, config) };
      } catch (err) {
        return { spec, error: (err as Error).message };
      }
    }),
  );
  const width = Math.max(0, ...config.modules.map((m) => m.name.length));
  let failed = 0;
  for (const result of results) {
    const { spec } = result;
    const origin = sourceOrigin(spec.source);
    if (result.loaded) {
      const { sha256, bytes } = result.loaded;
      process.stdout.write(`${spec.name.padEnd(width)}  ${sha256}  ${formatBytes(bytes.length).padStart(9)}  ${result.loaded.origin}\n`);
    } else {
      failed++;
      log.error(`module "${spec.name}" (${origin}): ${result.error}`);
    }
  }
  if (failed) {
    log.error(`${failed} of ${results.length} module${results.length === 1 ? "" : "s"} could not be fetched`);
    process.exitCode = 1;
  } else {
    log.info(`${results.length} module${results.length === 1 ? "" : "s"} verified; \`wasmforge serve\` can now start offline`);
  }
}
