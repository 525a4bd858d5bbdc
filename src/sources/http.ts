// Modules from HTTP(S) URLs, pinned by SHA-256. A download is streamed to a temporary file while it
// is hashed and enters the cache only when the hash matches the pin; the bytes handed on are read
// back from the cache and verified again. A pinned module already in the cache needs no network.

import { readFile, rm } from "node:fs/promises";
import type { Config, ModuleSource } from "../config/load.js";
import { log } from "../core/log.js";
import { commit, readCached, tempFile } from "./cache.js";
import { checkUrl, downloadToFile, type Downloaded } from "./download.js";

export type HttpSource = Extract<ModuleSource, { kind: "http" }>;

/** Concurrent loads of the same URL and pin share one download. */
const inflight = new Map<string, Promise<{ bytes: Uint8Array; sha256: string }>>();

export function loadHttpModule(source: HttpSource, config: Config): Promise<{ bytes: Uint8Array; sha256: string }> {
  const key = `${config.cache.directory}\n${source.url}\n${source.sha256 ?? ""}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = load(source, config).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

async function load(source: HttpSource, config: Config): Promise<{ bytes: Uint8Array; sha256: string }> {
  const url = checkUrl(source.url, config.server.allow_insecure_http);
  const dir = config.cache.directory;
  const maxBytes = config.server.max_download_mb * 1024 * 1024;
  if (source.sha256) {
    const cached = await readCached(dir, source.sha256, maxBytes);
    if (cached) {
      log.debug(`${source.url}: verified copy in the cache (${source.sha256.slice(0, 12)}), no download`);
      return { bytes: cached, sha256: source.sha256 };
    }
  }

  const tmp = await tempFile(dir);
  let downloaded: Downloaded;
  let uncached: Uint8Array | undefined;
  try {
    const limits = { timeoutMs: config.server.download_timeout_ms, maxBytes, allowInsecureHttp: config.server.allow_insecure_http };
    const request = { url, headers: { accept: "application/wasm, */*" } };
    downloaded = await downloadToFile(request, tmp, limits);
    const actual = downloaded.sha256;
    if (source.sha256 && actual !== source.sha256) {
      throw new Error(
        `SHA-256 mismatch for ${source.url}: expected ${source.sha256}, got ${actual}; nothing was loaded. ` +
          `If the module was updated on purpose and you trust it, set sha256 = "${actual}"; otherwise check the URL`,
      );
    }
    if (!source.sha256 && !config.server.allow_unpinned) {
      throw new Error(
        `${source.url} has no sha256 pin, so it was not loaded. The file it serves now has SHA-256 ${actual}; ` +
          `if you trust it, add this line next to its url in ${config.file}:  sha256 = "${actual}"  ` +
          `(or set [server] allow_unpinned = true while developing)`,
      );
    }
    // Read before the commit: a place taken by something else in the cache leaves the bytes here.
    const bytes = new Uint8Array(await readFile(tmp));
    if (!(await commit(dir, tmp, actual, { url: source.url }, config.cache.maxSizeMb))) uncached = bytes;
  } finally {
    await rm(tmp, { force: true });
  }
  if (!source.sha256) {
    log.warn(`${source.url} is not pinned (allowed by [server] allow_unpinned); pin it with  sha256 = "${downloaded.sha256}"`);
  }
  if (uncached) return { bytes: uncached, sha256: downloaded.sha256 };
  const bytes = await readCached(dir, downloaded.sha256, maxBytes);
  if (!bytes) throw new Error(`the cache entry for ${source.url} vanished right after download; is something else cleaning ${dir}?`);
  return { bytes, sha256: downloaded.sha256 };
}
