// `wasmforge cache list` and `wasmforge cache clear`: inspect and empty the download cache.

import { ConfigError, findConfig, loadConfig, parseConfig, type Config } from "../config/load.js";
import { log } from "../core/log.js";
import { formatBytes } from "../core/format.js";
import { DEFAULT_MAX_SIZE_MB, clearCache, listCache } from "../sources/cache.js";

export interface CacheOptions {
  config?: string;
}

/** The config names the cache; with no config file at all, the default cache location is used. */
function cacheConfig(options: CacheOptions): Config {
  let file: string;
  try {
    file = findConfig(options.config);
  } catch (err) {
    if (options.config || !(err instanceof ConfigError)) throw err;
    return parseConfig("", "(no config file)");
  }
  return loadConfig(file);
}

export async function cacheList(options: CacheOptions): Promise<void> {
  const config = cacheConfig(options);
  const dir = config.cache.directory;
  const entries = await listCache(dir);
  const usedBy = new Map<string, string[]>();
  for (const m of config.modules) {
    if (m.source.kind === "http" && m.source.sha256) usedBy.set(m.source.sha256, [...(usedBy.get(m.source.sha256) ?? []), m.name]);
  }
  for (const e of entries) {
    const modules = usedBy.get(e.sha256);
    const columns = [e.sha256, formatBytes(e.size).padStart(9), e.lastUsed.toISOString(), e.url];
    if (modules) columns.push(`(module ${modules.join(", ")})`);
    process.stdout.write(columns.join("  ") + "\n");
  }
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  log.info(
    `${entries.length} cached module${entries.length === 1 ? "" : "s"}, ${formatBytes(total)} of ${config.cache.maxSizeMb ?? DEFAULT_MAX_SIZE_MB} MB ([cache] max_size_mb) in ${dir}`,
  );
}

export async function cacheClear(options: CacheOptions): Promise<void> {
  const dir = cacheConfig(options).cache.directory;
  const { removed, bytes } = await clearCache(dir);
  process.stdout.write(`removed ${removed} cached module${removed === 1 ? "" : "s"} (${formatBytes(bytes)}) from ${dir}\n`);
}
