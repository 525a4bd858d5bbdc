// `wasmforge cache list` and `wasmforge cache clear`: inspect and empty the download cache.

import { ConfigError, findConfig, loadConfig, parseConfig, type Config } from "../config/load.js";
import { log } from "../core/log.js";
import { formatBytes } from "../core/format.js";
import { clearComponentCache, listComponentCache } from "../runtime/component-cache.js";
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
  // Modules name an entry by its SHA-256, or (OCI) by the manifest digest it came from.
  const usedBy = new Map<string, string[]>();
  const use = (key: string, name: string) => usedBy.set(key, [...(usedBy.get(key) ?? []), name]);
  for (const m of config.modules) {
    if (m.source.kind === "local") continue;
    if (m.source.sha256) use(m.source.sha256, m.name);
    if (m.source.kind === "oci" && m.source.reference.digest) use(m.source.reference.digest, m.name);
  }
  for (const e of entries) {
    const modules = [...new Set([...(usedBy.get(e.sha256) ?? []), ...(e.digest ? usedBy.get(e.digest) ?? [] : [])])];
    // OCI entries show the reference pinned to the manifest digest they came from.
    const source = e.reference ? `oci://${e.reference}` : e.url;
    const columns = [e.sha256, formatBytes(e.size).padStart(9), e.lastUsed.toISOString(), source];
    if (modules.length) columns.push(`(module ${modules.join(", ")})`);
    process.stdout.write(columns.join("  ") + "\n");
  }
  // Transpiled components, named by the SHA-256 of the component they came from.
  const transpiled = await listComponentCache(dir);
  for (const e of transpiled) {
    process.stdout.write([e.sha256, formatBytes(e.size).padStart(9), e.lastUsed.toISOString(), `transpiled component (jco-transpile ${e.jcoTranspile})`].join("  ") + "\n");
  }
  if (transpiled.length > 0) {
    log.info(`${transpiled.length} transpiled component${transpiled.length === 1 ? "" : "s"}, ${formatBytes(transpiled.reduce((n, e) => n + e.size, 0))}, in ${dir}/components`);
  }
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  log.info(
    `${entries.length} cached module${entries.length === 1 ? "" : "s"}, ${formatBytes(total)} of ${config.cache.maxSizeMb ?? DEFAULT_MAX_SIZE_MB} MB ([cache] max_size_mb) in ${dir}`,
  );
}

export async function cacheClear(options: CacheOptions): Promise<void> {
  const dir = cacheConfig(options).cache.directory;
  const { removed, bytes } = await clearCache(dir);
  const transpiled = await clearComponentCache(dir);
  process.stdout.write(`removed ${removed} cached module${removed === 1 ? "" : "s"} (${formatBytes(bytes)}) from ${dir}\n`);
  if (transpiled.removed > 0) {
    process.stdout.write(`removed ${transpiled.removed} transpiled component${transpiled.removed === 1 ? "" : "s"} (${formatBytes(transpiled.bytes)}); they are transpiled again when next loaded\n`);
  }
}
